"""The retrieval tests' corpus and queries: four topics of four documents, ten queries that name
the relevant documents as ``topic-i`` ids (tests/tasks/test_retrieval.py, the golden case)."""

from __future__ import annotations

TOPICS = {
    "cooking": [
        "Simmer the tomato sauce for twenty minutes.",
        "Knead the bread dough until it is smooth.",
        "Roast the vegetables in a hot oven.",
        "Whisk eggs and sugar for the cake batter.",
    ],
    "space": [
        "The rocket reached orbit after launch.",
        "Astronauts repaired the space station's solar panel.",
        "A telescope photographed a distant galaxy.",
        "The probe landed on the surface of Mars.",
    ],
    "football": [
        "The striker scored a goal in extra time.",
        "The goalkeeper saved a penalty kick.",
        "The team won the league championship.",
        "Fans cheered as the match ended in a draw.",
    ],
    "finance": [
        "The central bank raised interest rates.",
        "Stock markets fell after the earnings report.",
        "Inflation slowed for the third month.",
        "The company paid a quarterly dividend.",
    ],
}
QUERIES = [
    ("how long should I cook pasta sauce", ["cooking-0"]),
    ("baking bread at home", ["cooking-1", "cooking-3"]),
    ("spacecraft going to another planet", ["space-3", "space-0"]),
    ("pictures of galaxies", ["space-2"]),
    ("who won the soccer game", ["football-2", "football-3"]),
    ("penalty save", ["football-1"]),
    ("interest rate decision", ["finance-0"]),
    ("share prices dropped", ["finance-1"]),
    ("rising prices and the economy", ["finance-2", "finance-0"]),
    ("repairing a satellite in orbit", ["space-1"]),
]
