"""What an estimator recorded of the table it was fitted on, and the table made to match it.

An estimator fitted on a DataFrame keeps its column names (``feature_names_in_``); XGBoost keeps
each feature's type (``feature_types``: ``c`` for a category) and, since 3.1, the categories
themselves; LightGBM keeps its categorical columns (``categorical_column``) and their categories
(``pandas_categorical``). From that record a table's rows are given back as the model saw them
in training: a DataFrame with the training dtypes (a category column as a category, text as
text, booleans as booleans), or a NumPy array for an estimator fitted on one.

A table that cannot match (a column the model needs is missing, holds text where the booster
takes numbers, or holds none of a categorical column's categories) is caught by
:func:`check_table` before any model runs, in one line that names the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whichmodel.errors import DataError, brief
from whichmodel.sources.base import Inputs

if TYPE_CHECKING:
    import pandas as pd

_SHOWN = 5  # categories named in an error


@dataclass(frozen=True)
class FeatureRecord:
    """An estimator's own record of its input table.

    Args:
        names: the columns it was fitted on, in order (``feature_names_in_``); None when it was
            fitted on a NumPy array.
        width: the number of columns it was fitted on (``n_features_in_``), None if unknown.
        categorical: a native-categorical booster's category columns, each with the categories
            it was trained on (None when the booster did not save them: XGBoost before 3.1).
        numeric: the booster's columns that must hold numbers.
        library: who keeps the record, for messages (``"XGBoost"``, ``"LightGBM"``, ``""``).
    """

    names: tuple[str, ...] | None
    width: int | None
    categorical: Mapping[str, tuple[Any, ...] | None] = field(default_factory=dict)
    numeric: frozenset[str] = frozenset()
    library: str = ""


def feature_record(estimator: Any) -> FeatureRecord:
    """The record ``estimator`` keeps of its input table (see the module docstring)."""
    names = getattr(estimator, "feature_names_in_", None)
    width = getattr(estimator, "n_features_in_", None)
    record = FeatureRecord(
        tuple(str(n) for n in names) if names is not None else None,
        int(width) if width is not None else None,
    )
    module = type(estimator).__module__
    if module.startswith("xgboost") and hasattr(estimator, "get_booster"):
        return _xgboost(record, estimator.get_booster())
    if module.startswith("lightgbm") and hasattr(estimator, "booster_"):
        return _lightgbm(record, estimator.booster_)
    return record


def _xgboost(record: FeatureRecord, booster: Any) -> FeatureRecord:
    names = [str(n) for n in (booster.feature_names or ())]
    types = list(booster.feature_types or ())
    if not names or len(names) != len(types):
        return record
    saved: dict[str, tuple[Any, ...] | None] = {}
    if hasattr(booster, "get_categories"):  # XGBoost >= 3.1 saves the training categories
        for name, values in booster.get_categories(export_to_arrow=True).to_arrow() or ():
            if values is not None:
                saved[str(name)] = tuple(values.to_pylist())
    categorical = {n: saved.get(n) for n, t in zip(names, types, strict=True) if t == "c"}
    numeric = frozenset(n for n, t in zip(names, types, strict=True) if t in ("float", "int", "q"))
    return FeatureRecord(
        record.names, record.width, categorical, numeric, "XGBoost"
    )


def _lightgbm(record: FeatureRecord, booster: Any) -> FeatureRecord:
    names = [str(n) for n in booster.feature_name()]
    indices = booster.params.get("categorical_column") or []
    indices = [indices] if isinstance(indices, int) else [int(i) for i in indices]
    levels = booster.pandas_categorical or []
    # LightGBM's categories belong to the columns that were pandas categories, in order; a
    # column named categorical on an integer column has none and stays a number.
    categorical: dict[str, tuple[Any, ...] | None] = {}
    if len(levels) == len(indices):
        categorical = {names[i]: tuple(c) for i, c in zip(indices, levels, strict=True)}
    numeric = frozenset(n for i, n in enumerate(names) if i not in indices)
    given = record.names
    if given is None and names != [f"Column_{i}" for i in range(len(names))]:
        given = tuple(names)  # older LightGBM (4.1) keeps a DataFrame's names in its booster only
    return FeatureRecord(given, record.width, categorical, numeric, "LightGBM")


def table_frame(inputs: Inputs) -> pd.DataFrame:
    """``inputs`` (tabular) as a DataFrame whose columns have the dtypes the file stores."""
    import pandas as pd

    data = inputs.data.reshape(len(inputs), -1)
    frame = pd.DataFrame(data, columns=list(inputs.columns))
    if data.dtype != object:
        return frame
    if len(inputs.dtypes) == len(inputs.columns):
        return frame.astype(dict(zip(inputs.columns, inputs.dtypes, strict=True)))
    return frame.infer_objects()  # e.g. a probe's rows read back: each column's own type


def model_input(record: FeatureRecord, inputs: Inputs) -> Any:
    """The rows of ``inputs`` as the estimator was fitted on them: a DataFrame of its columns
    with the training dtypes, or (n, d) values for an estimator fitted on an array."""
    if inputs.kind != "tabular" or record.names is None:
        return inputs.data if inputs.kind == "text" else inputs.data.reshape(len(inputs), -1)
    frame = table_frame(inputs)[list(record.names)]
    for name, categories in record.categorical.items():
        frame[name] = _as_category(frame[name], categories)
    for name in record.numeric & set(frame.columns):
        if isinstance(frame[name].dtype, _category_type()):  # numbers stored as a category
            frame[name] = frame[name].astype(frame[name].cat.categories.dtype)
    return frame


def _category_type() -> type:
    import pandas as pd

    return pd.CategoricalDtype


def _as_category(column: pd.Series, categories: tuple[Any, ...] | None) -> pd.Series:
    """A category column with the training ``categories`` (a value the model never saw is
    missing, as the booster itself treats it); with none saved, the file's own category."""
    import pandas as pd

    if categories is None:
        return column  # check_table made sure it is a category already
    values = column.astype(object) if isinstance(column.dtype, pd.CategoricalDtype) else column
    return pd.Series(
        pd.Categorical(values, categories=list(categories)), index=column.index, name=column.name
    )


def check_table(record: FeatureRecord, inputs: Inputs, *, model: str) -> None:
    """Raise DataError, naming the column, when ``inputs`` cannot be given to the estimator
    ``model`` as it was fitted (see the module docstring). ``inputs`` is a sample of the rows:
    its values show whether a column holds numbers or any of the training categories.

    Raises:
        DataError: e.g. ``Column 'age' holds text ('old'), but the XGBoost model gbm was fitted
            on it as numbers; ...``
    """
    from whichmodel.data.tables import names_text

    if inputs.kind != "tabular" or not len(inputs):
        return
    columns = list(inputs.columns)
    if record.names is None:
        if record.width is not None and record.width != len(columns):
            raise DataError(
                f"{model} was fitted on {record.width} columns, but the data gives it "
                f"{len(columns)} ({names_text(columns)}); choose them with --input-cols."
            )
        return
    missing = [n for n in record.names if n not in columns]
    if missing:
        raise DataError(
            f"{model} was fitted on a column {brief(missing[0])} that the data's inputs do not "
            f"have (missing: {len(missing)} of {len(record.names)}); the inputs are "
            f"{names_text(columns)}."
        )
    frame = table_frame(inputs)
    for name, categories in record.categorical.items():
        _check_category(frame[name], categories, model=model, library=record.library)
    for name in sorted(record.numeric & set(columns), key=columns.index):
        _check_numbers(frame[name], model=model, library=record.library)


def _check_category(
    column: pd.Series, categories: tuple[Any, ...] | None, *, model: str, library: str
) -> None:
    import pandas as pd

    name = brief(str(column.name))
    if categories is None:
        if not isinstance(column.dtype, pd.CategoricalDtype):
            raise DataError(
                f"Column {name} is {column.dtype}, but the {library} model {model} was fitted "
                "on it as a category and did not save its categories (XGBoost < 3.1); store "
                "the column as a category with the training categories (a Parquet file), or "
                "re-save the model with XGBoost >= 3.1."
            )
        return
    values = column.dropna().astype(object)
    if len(values) and not values.isin(list(categories)).any():
        shown = ", ".join(brief(c, 30) for c in categories[:_SHOWN])
        more = f", ... ({len(categories)} in all)" if len(categories) > _SHOWN else ""
        raise DataError(
            f"Column {name} holds none of the categories the {library} model {model} was "
            f"fitted on ({shown}{more}); the data has e.g. {brief(values.iloc[0], 30)}."
        )


def _check_numbers(column: pd.Series, *, model: str, library: str) -> None:
    import pandas as pd

    kind = column.cat.categories.dtype if isinstance(column.dtype, pd.CategoricalDtype) else None
    dtype = kind if kind is not None else column.dtype
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return
    values = column.dropna()
    shown = brief(values.iloc[0], 30) if len(values) else "missing values"
    what = "text" if pd.api.types.is_object_dtype(dtype) or dtype == "string" else f"{dtype} values"
    raise DataError(
        f"Column {brief(str(column.name))} holds {what} ({shown}), but the {library} "
        f"model {model} was fitted on it as numbers; give it the numbers it was trained on."
    )

