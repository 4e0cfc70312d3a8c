"""OpenAI-compatible endpoints (``openai:http://host:port/v1?model=NAME``): a served or hosted
model compared with local ones on the same examples.

- :mod:`.settings`: the reference's options, read and checked (no network).
- :mod:`.client`: the official ``openai`` SDK with timeouts, bounded retries, requests in
  flight together, a response cache in the run store, and the API key kept out of every text.
- :mod:`.logprobs`: prompt log-probabilities read from an ``echo`` response.
- :mod:`.model`: the model and its capabilities, probed when it loads.
- :mod:`.source`: the ``openai:`` kind (the Source contract); :mod:`.sheet`: its spec sheet.
"""
