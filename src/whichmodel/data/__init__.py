"""Reading datasets: tables (CSV/JSONL/Parquet, streamed when large), ``datasets`` folders,
image and audio folders, detection data (tables of boxes, COCO); one :class:`~.dataset.Dataset`
type for every task. Readers know no task: a task says what it needs (labels, word lists, audio)
through the arguments of :func:`~.dataset.read_dataset`.
"""
