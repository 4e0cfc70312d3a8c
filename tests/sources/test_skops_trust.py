"""The skops allowlist against every type scikit-learn's own estimators need: real estimators of
each family, fitted on bundled data, saved with skops and loaded through whichmodel with no
flag, predict as they did before saving. And the list holds nothing that runs code or opens
paths when restored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from whichmodel.sources import load
from whichmodel.sources.skops_trust import trusted_names


def _iris() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True, as_frame=True)
    x = x.assign(size=np.where(x.iloc[:, 0] > 5.8, "big", "small"))  # a categorical column
    return x, y.to_numpy()


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    return x[:150], y[:150]


def _numeric(estimator: Any) -> Any:
    """``estimator`` after one-hot encoding the categorical column (and scaling the rest)."""
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["size"]), remainder=StandardScaler()
    )
    return make_pipeline(encode, estimator)


def _then_logreg(*steps: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    return _numeric(_pipeline(*steps, LogisticRegression(max_iter=500)))


def _pipeline(*steps: Any) -> Any:
    from sklearn.pipeline import make_pipeline

    return make_pipeline(*steps)


def _classifiers() -> dict[str, Callable[[], Any]]:
    from sklearn import (
        calibration,
        discriminant_analysis,
        dummy,
        ensemble,
        gaussian_process,
        linear_model,
        model_selection,
        multiclass,
        naive_bayes,
        neighbors,
        neural_network,
        semi_supervised,
        svm,
        tree,
    )

    lr = linear_model.LogisticRegression
    return {
        "logistic": lambda: _numeric(lr(max_iter=500)),
        "sgd": lambda: _numeric(linear_model.SGDClassifier(loss="modified_huber")),
        "perceptron": lambda: _numeric(linear_model.Perceptron()),
        "ridge_cv": lambda: _numeric(linear_model.RidgeClassifierCV()),
        "linear_svc": lambda: _numeric(svm.LinearSVC()),
        "svc": lambda: _numeric(svm.SVC()),
        "knn_kd_tree": lambda: _numeric(neighbors.KNeighborsClassifier(algorithm="kd_tree")),
        "knn_ball_tree": lambda: _numeric(neighbors.KNeighborsClassifier(algorithm="ball_tree")),
        "radius_neighbors": lambda: _numeric(neighbors.RadiusNeighborsClassifier(radius=5.0)),
        "nearest_centroid": lambda: _numeric(neighbors.NearestCentroid()),
        "gaussian_nb": lambda: _numeric(naive_bayes.GaussianNB()),
        "lda": lambda: _numeric(discriminant_analysis.LinearDiscriminantAnalysis()),
        "qda": lambda: _numeric(discriminant_analysis.QuadraticDiscriminantAnalysis(
            reg_param=0.1)),
        "decision_tree": lambda: _numeric(tree.DecisionTreeClassifier(max_depth=3)),
        "random_forest": lambda: _numeric(ensemble.RandomForestClassifier(5, random_state=0)),
        "extra_trees": lambda: _numeric(ensemble.ExtraTreesClassifier(5, random_state=0)),
        "gradient_boosting": lambda: _numeric(ensemble.GradientBoostingClassifier(n_estimators=5)),
        "hist_gb_categorical": lambda: ensemble.HistGradientBoostingClassifier(
            max_iter=5, categorical_features="from_dtype"),
        "adaboost": lambda: _numeric(ensemble.AdaBoostClassifier(n_estimators=5)),
        "bagging": lambda: _numeric(ensemble.BaggingClassifier(n_estimators=3, random_state=0)),
        "mlp_adam": lambda: _numeric(neural_network.MLPClassifier((8,), max_iter=30)),
        "mlp_sgd": lambda: _numeric(neural_network.MLPClassifier((8,), solver="sgd", max_iter=30)),
        "gaussian_process": lambda: _numeric(gaussian_process.GaussianProcessClassifier(
            gaussian_process.kernels.ConstantKernel() * gaussian_process.kernels.RBF(),
            optimizer=None)),
        "label_spreading": lambda: _numeric(semi_supervised.LabelSpreading()),
        "calibrated_sigmoid": lambda: _numeric(calibration.CalibratedClassifierCV(
            svm.LinearSVC(), cv=3)),
        "calibrated_isotonic": lambda: _numeric(calibration.CalibratedClassifierCV(
            tree.DecisionTreeClassifier(max_depth=3), cv=3, method="isotonic")),
        "stacking": lambda: _numeric(ensemble.StackingClassifier(
            [("lr", lr(max_iter=500)), ("knn", neighbors.KNeighborsClassifier())], cv=3)),
        "voting": lambda: _numeric(ensemble.VotingClassifier(
            [("lr", lr(max_iter=500)), ("nb", naive_bayes.GaussianNB())], voting="soft")),
        "one_vs_rest": lambda: _numeric(multiclass.OneVsRestClassifier(lr(max_iter=500))),
        "one_vs_one": lambda: _numeric(multiclass.OneVsOneClassifier(svm.LinearSVC())),
        "grid_search": lambda: _numeric(model_selection.GridSearchCV(
            lr(max_iter=500), {"C": [0.1, 1.0]}, cv=3)),
        "dummy": lambda: dummy.DummyClassifier(),
    }


def _transformers() -> dict[str, Callable[[], Any]]:
    from sklearn import (
        cluster,
        decomposition,
        feature_selection,
        impute,
        kernel_approximation,
        preprocessing,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    pre = preprocessing
    return {
        "scalers": lambda: _then_logreg(pre.MinMaxScaler(), pre.RobustScaler(),
                                        pre.MaxAbsScaler(), pre.Normalizer()),
        "power_quantile": lambda: _then_logreg(pre.PowerTransformer(),
                                               pre.QuantileTransformer(n_quantiles=50)),
        "polynomial_spline": lambda: _then_logreg(pre.PolynomialFeatures(2),
                                                  pre.SplineTransformer()),
        "kbins": lambda: _then_logreg(pre.KBinsDiscretizer(n_bins=3, strategy="uniform")),
        "imputers": lambda: _then_logreg(impute.SimpleImputer(strategy="median"),
                                         impute.KNNImputer()),
        "decompositions": lambda: _then_logreg(decomposition.PCA(3),
                                               decomposition.TruncatedSVD(2)),
        "kernel_maps": lambda: _then_logreg(kernel_approximation.Nystroem(n_components=20),
                                            kernel_approximation.RBFSampler(n_components=20)),
        "select_k_best": lambda: _then_logreg(feature_selection.SelectKBest(k=3)),
        "select_mutual_info": lambda: _then_logreg(feature_selection.SelectPercentile(
            feature_selection.mutual_info_classif, percentile=50)),
        "select_from_model": lambda: _then_logreg(
            feature_selection.VarianceThreshold(),
            feature_selection.RFE(LogisticRegression(max_iter=500), n_features_to_select=3)),
        "feature_agglomeration": lambda: _then_logreg(cluster.FeatureAgglomeration(2)),
        "feature_union": lambda: _then_logreg(FeatureUnion(
            [("tanh", pre.FunctionTransformer(np.tanh)), ("ica", decomposition.FastICA(
                2, random_state=0))])),
        "target_encoder": lambda: _numeric(_pipeline(
            pre.TargetEncoder(), LogisticRegression(max_iter=500))),
        "kmeans": lambda: _numeric(cluster.KMeans(3, n_init=1, random_state=0)),
        "bisecting_kmeans": lambda: _numeric(cluster.BisectingKMeans(3, random_state=0)),
    }


def _regressors() -> dict[str, Callable[[], Any]]:
    from sklearn import (
        compose,
        cross_decomposition,
        ensemble,
        gaussian_process,
        kernel_ridge,
        linear_model,
        neighbors,
        svm,
        tree,
    )

    lm = linear_model
    return {
        "linear": lambda: lm.LinearRegression(),
        "ridge_lasso_cv": lambda: ensemble.VotingRegressor(
            [("ridge", lm.RidgeCV()), ("enet", lm.ElasticNetCV(cv=3)), ("lars", lm.LassoLars())]),
        "huber_ransac": lambda: ensemble.VotingRegressor(
            [("huber", lm.HuberRegressor(max_iter=200)), ("ransac", lm.RANSACRegressor(
                random_state=0)), ("bayes", lm.BayesianRidge())]),
        "glm": lambda: ensemble.VotingRegressor(
            [("poisson", lm.PoissonRegressor()), ("tweedie", lm.TweedieRegressor(power=1.5))]),
        "sgd": lambda: lm.SGDRegressor(loss="epsilon_insensitive"),
        "kernel_ridge_svr": lambda: ensemble.VotingRegressor(
            [("kr", kernel_ridge.KernelRidge()), ("svr", svm.SVR()), ("nusvr", svm.NuSVR())]),
        "knn": lambda: neighbors.KNeighborsRegressor(),
        "gaussian_process": lambda: gaussian_process.GaussianProcessRegressor(),
        "pls": lambda: cross_decomposition.PLSRegression(2),
        "trees": lambda: ensemble.VotingRegressor(
            [("tree", tree.DecisionTreeRegressor(max_depth=3)),
             ("forest", ensemble.RandomForestRegressor(5, random_state=0))]),
        "gradient_boosting_huber": lambda: ensemble.GradientBoostingRegressor(
            loss="huber", n_estimators=5),
        "hist_gb_poisson": lambda: ensemble.HistGradientBoostingRegressor(
            loss="poisson", max_iter=5),
        "hist_gb_quantile": lambda: ensemble.HistGradientBoostingRegressor(
            loss="quantile", quantile=0.8, max_iter=5),
        "transformed_target": lambda: compose.TransformedTargetRegressor(
            lm.Ridge(), func=np.log1p, inverse_func=np.expm1),
    }


def _boosting() -> dict[str, Callable[[], Any]]:
    found: dict[str, Callable[[], Any]] = {}
    try:
        import xgboost
    except ImportError:
        pass
    else:
        found["xgb_classifier"] = lambda: _numeric(xgboost.XGBClassifier(n_estimators=3))
        found["xgb_rf_classifier"] = lambda: _numeric(xgboost.XGBRFClassifier(n_estimators=3))
    try:
        import lightgbm
    except ImportError:
        pass
    else:
        found["lgbm_classifier"] = lambda: _numeric(
            lightgbm.LGBMClassifier(n_estimators=3, verbose=-1))
    return found


def _regression_boosting() -> dict[str, Callable[[], Any]]:
    found: dict[str, Callable[[], Any]] = {}
    try:
        import xgboost
    except ImportError:
        pass
    else:
        found["xgb_regressor"] = lambda: xgboost.XGBRegressor(n_estimators=3)
    try:
        import lightgbm
    except ImportError:
        pass
    else:
        found["lgbm_regressor"] = lambda: lightgbm.LGBMRegressor(n_estimators=3, verbose=-1)
    return found


CASES = [
    *((f"classify-{k}", "iris", v) for k, v in {**_classifiers(), **_boosting()}.items()),
    *((f"transform-{k}", "iris", v) for k, v in _transformers().items()),
    *((f"regress-{k}", "diabetes", v) for k, v in {**_regressors(),
                                                  **_regression_boosting()}.items()),
]


@pytest.fixture(scope="module")
def datasets() -> dict[str, tuple[Any, np.ndarray]]:
    x, y = _iris()
    categorical = x.assign(size=x["size"].astype("category"))
    return {"iris": (x, y), "iris-categorical": (categorical, y), "diabetes": _diabetes()}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:.*does not have valid feature names:UserWarning")
# scikit-learn 1.5 (the lowest allowed) warns while fitting these test models, not on loading.
@pytest.mark.filterwarnings("ignore:Variables are collinear:UserWarning")
@pytest.mark.filterwarnings("ignore:The SAMME.R algorithm:FutureWarning")
@pytest.mark.parametrize(("name", "data", "make"), CASES, ids=[c[0] for c in CASES])
def test_fitted_estimator_loads_without_flags(name, data, make, datasets, tmp_path: Path):
    import skops.io as sio

    key = "iris-categorical" if "categorical" in name else data
    x, y = datasets[key]
    estimator = make().fit(x, y)
    path = tmp_path / f"{name}.skops"
    sio.dump(estimator, path)
    loaded = load(f"sklearn:{path}").estimator  # no allow_pickle
    rows = x.iloc[:20] if isinstance(x, pd.DataFrame) else x[:20]
    np.testing.assert_array_equal(loaded.predict(rows), estimator.predict(rows))


def test_the_list_holds_nothing_that_runs_code_or_opens_paths():
    names = trusted_names()
    dangerous = ("scipy.stats", "scipy.io", "numpy.memmap", "numpy.lib", "numpy.load",
                 "numpy.save", "numpy.fromfile", "numpy.loadtxt", "numpy.genfromtxt",
                 "builtins.eval", "builtins.exec", "builtins.open", "builtins.getattr",
                 "builtins.__import__", "os.", "subprocess.", "importlib.", "operator.",
                 "joblib.", "pickle.", "sklearn.utils._testing", "sklearn.datasets")
    assert not [n for n in names if n.startswith(dangerous)]
    # Every listed scikit-learn estimator is one of all_estimators(), not a module wildcard.
    assert "sklearn.linear_model._logistic.LogisticRegression" in names
    assert "numpy.ndarray" in names and "numpy.memmap" not in names
