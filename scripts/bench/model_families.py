#!/usr/bin/env python3
"""Grouped-CV exploration of model families for netsec's phishing classifier.

Training rows only (artifacts/ingest/train.csv); the test file is never read.
Protocol: groups = identical 30-feature vectors; StratifiedGroupKFold(5, shuffle=True)
with fold seeds 42, 43, 44; positive class = phishing (Result == -1).
Per candidate and fold seed: pooled out-of-fold probabilities -> F1 at 0.5 and F1 at the
OOF-F1-maximising threshold (netsec's best_f1_threshold), plus mean of per-fold F1 at 0.5.

Usage (run by model-families.sh, which sets the two paths below):
        model_families.py run NAME [NAME ...]   (fit candidates, cache OOF, append results.csv)
        model_families.py vote A+B[+C] ...      (soft votes of cached OOF probabilities)
        model_families.py stack A+B[+C] ...     (nested-OOF stacked logistic regression)
        model_families.py table                 (print results sorted by tuned F1)
A NAME is `family[:key=value...]`: rf, et, hgb, svc, knn, lrpair, lr, mlp, lgb, xgb; `feats=onehot`
expands each ternary feature into three 0/1 columns; other keys are the estimator's arguments.
Env: FAMILIES_TRAIN (the ingest stage's train.csv), FAMILIES_DIR (results.csv and oof/).
"""
import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

ROOT = os.environ["FAMILIES_DIR"]
TRAIN = os.environ["FAMILIES_TRAIN"]
OOF_DIR = f"{ROOT}/oof"
RESULTS = f"{ROOT}/results.csv"
SEEDS = (42, 43, 44)
K = 5

df = pd.read_csv(TRAIN)
X = df.drop(columns="Result").to_numpy(dtype=np.int8)
Y = (df["Result"].to_numpy() == -1).astype(np.int8)  # phishing = positive
_, GROUPS = np.unique(X, axis=0, return_inverse=True)
GROUPS = GROUPS.ravel()
OH = np.concatenate([(X == v) for v in (-1, 0, 1)], axis=1).astype(np.float32)  # 90 cols


def folds(seed):
    sgkf = StratifiedGroupKFold(n_splits=K, shuffle=True, random_state=seed)
    return list(sgkf.split(X, Y, GROUPS))


FOLDS = {s: folds(s) for s in SEEDS}


# ---------------------------------------------------------------- metrics
def f1_at(y, p, t):
    pred = p >= t
    tp = np.sum(pred & (y == 1))
    fp = np.sum(pred & (y == 0))
    fn = np.sum(~pred & (y == 1))
    return 2 * tp / max(2 * tp + fp + fn, 1)


def best_f1(y, p):
    """netsec's best_f1_threshold: every cut between distinct scores; ties -> nearest 0.5."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    pos = ys.sum()
    # last index of each run of equal scores
    ends = np.r_[np.nonzero(np.diff(ps))[0], len(ps) - 1]
    tp = np.cumsum(ys)[ends]
    fp = (ends + 1) - tp
    f1 = 2 * tp / (2 * tp + fp + (pos - tp))
    nxt = np.r_[ps[ends[:-1] + 1], ps[-1]]
    t = np.where(np.arange(len(ends)) < len(ends) - 1, (ps[ends] + nxt) / 2, ps[ends])
    best = f1.max()
    cand = np.nonzero(f1 >= best - 1e-15)[0]
    j = cand[np.argmin(np.abs(t[cand] - 0.5))]
    return t[j], f1[j]


def evaluate(name, oofs, params, secs):
    """oofs: dict seed -> pooled OOF probability (or score with cut at 0.5)."""
    rows = []
    for s in SEEDS:
        p = oofs[s]
        f05 = f1_at(Y, p, 0.5)
        t, ft = best_f1(Y, p)
        fold_f1 = np.mean([f1_at(Y[te], p[te], 0.5) for _, te in FOLDS[s]])
        rows.append((f05, ft, t, fold_f1))
    a = np.array(rows)
    res = dict(
        name=name,
        f1_05_mean=a[:, 0].mean(), f1_05_sd=a[:, 0].std(ddof=1),
        f1_tuned_mean=a[:, 1].mean(), f1_tuned_sd=a[:, 1].std(ddof=1),
        thr_mean=a[:, 2].mean(), foldmean_f1_05=a[:, 3].mean(),
        f1_05_by_seed=";".join(f"{v:.4f}" for v in a[:, 0]),
        f1_tuned_by_seed=";".join(f"{v:.4f}" for v in a[:, 1]),
        secs=round(secs, 1), params=params,
    )
    pd.DataFrame([res]).to_csv(RESULTS, mode="a", header=not os.path.exists(RESULTS),
                               index=False)
    print(f"{name:40s} F1@0.5 {res['f1_05_mean']:.4f}±{res['f1_05_sd']:.4f}  "
          f"tuned {res['f1_tuned_mean']:.4f}±{res['f1_tuned_sd']:.4f}  "
          f"thr {res['thr_mean']:.3f}  {secs:.0f}s", flush=True)
    return res


# ---------------------------------------------------------------- candidates
def sk(factory, feats="raw"):
    """Wrap a sklearn estimator factory: fit(Xtr, ytr, seed) -> proba on Xte."""
    def run(tr, te, seed):
        Z = OH if feats == "onehot" else X.astype(np.float32)
        m = factory(seed)
        m.fit(Z[tr], Y[tr])
        if hasattr(m, "predict_proba"):
            return m.predict_proba(Z[te])[:, 1]
        # decision function -> logistic squash so that 0 maps to 0.5 (ranking unchanged)
        return 1 / (1 + np.exp(-m.decision_function(Z[te])))
    return run


def knn(k):
    def run(tr, te, seed):
        match = OH[te] @ OH[tr].T          # equal-feature counts
        d = 30.0 - match                   # Hamming distance (>=1 under grouped CV)
        idx = np.argpartition(d, k - 1, axis=1)[:, :k]
        dd = np.take_along_axis(d, idx, 1)
        w = 1.0 / np.maximum(dd, 0.5)
        return (w * Y[tr][idx]).sum(1) / w.sum(1)
    return run


def logreg_pairs(C):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import PolynomialFeatures
    from scipy import sparse

    poly = PolynomialFeatures(2, interaction_only=True, include_bias=False)
    Z = sparse.csr_matrix(poly.fit_transform(OH))

    def run(tr, te, seed):
        m = LogisticRegression(C=C, max_iter=3000, solver="liblinear")
        m.fit(Z[tr], Y[tr])
        return m.predict_proba(Z[te])[:, 1]
    return run


def build(name):
    from sklearn.ensemble import (RandomForestClassifier, ExtraTreesClassifier,
                                  HistGradientBoostingClassifier)
    from sklearn.svm import SVC
    from sklearn.neural_network import MLPClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.calibration import CalibratedClassifierCV

    kind, *args = name.split(":")
    kv = dict(a.split("=") for a in args)

    def num(v):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return None if v == "None" else v

    kv = {k: num(v) for k, v in kv.items()}
    feats = kv.pop("feats", "raw")
    if kind == "rf":
        kw = dict(n_estimators=300, max_features="sqrt", n_jobs=1)
        kw.update(kv)
        return sk(lambda s: RandomForestClassifier(random_state=s, **kw), feats)
    if kind == "et":
        kw = dict(n_estimators=300, max_features="sqrt", n_jobs=1)
        kw.update(kv)
        return sk(lambda s: ExtraTreesClassifier(random_state=s, **kw), feats)
    if kind == "hgb":
        kw = dict(kv)
        if kw.pop("cat", 0):
            kw["categorical_features"] = [True] * 30
        if feats == "raw" and "categorical_features" in kw:
            def run(tr, te, seed, kw=kw):
                Z = X + 1  # categories 0,1,2
                m = HistGradientBoostingClassifier(random_state=seed, **kw)
                m.fit(Z[tr], Y[tr])
                return m.predict_proba(Z[te])[:, 1]
            return run
        return sk(lambda s: HistGradientBoostingClassifier(random_state=s, **kw), feats)
    if kind == "svc":
        kw = dict(kernel="rbf")
        kw.update(kv)
        if kw.pop("cal", 0):
            return sk(lambda s: CalibratedClassifierCV(SVC(**kw), cv=3, method="sigmoid"),
                      feats)
        return sk(lambda s: SVC(**kw), feats)
    if kind == "knn":
        return knn(kv["k"])
    if kind == "lrpair":
        return logreg_pairs(kv["C"])
    if kind == "lr":
        return sk(lambda s: LogisticRegression(C=kv.get("C", 1.0), max_iter=3000), feats)
    if kind == "mlp":
        hid = tuple(int(h) for h in str(kv.pop("h")).split("x"))
        kw = dict(max_iter=300, early_stopping=False)
        kw.update(kv)
        return sk(lambda s: MLPClassifier(hidden_layer_sizes=hid, random_state=s, **kw),
                  feats)
    if kind == "lgb":
        import lightgbm as lgb
        kw = dict(n_estimators=300, learning_rate=0.05, num_leaves=31, n_jobs=1,
                  verbose=-1)
        kw.update(kv)
        return sk(lambda s: lgb.LGBMClassifier(random_state=s, **kw), feats)
    if kind == "xgb":
        import xgboost as xgb
        kw = dict(n_estimators=300, learning_rate=0.1, max_depth=6, n_jobs=1,
                  tree_method="hist")
        kw.update(kv)
        return sk(lambda s: xgb.XGBClassifier(random_state=s, **kw), feats)
    raise ValueError(name)


def fname(name):
    return f"{OOF_DIR}/{name.replace(':', '__').replace('=', '-')}.npz"


def run(name, seeds=SEEDS):
    fit = build(name)
    t0 = time.time()
    oofs = {}
    for s in seeds:
        p = np.full(len(Y), np.nan)
        for i, (tr, te) in enumerate(FOLDS[s]):
            # the model seed varies with the fold like netsec (seed fixed per fold seed)
            p[te] = fit(tr, te, s)
        oofs[s] = p
    os.makedirs(OOF_DIR, exist_ok=True)
    np.savez(fname(name), **{str(s): oofs[s] for s in seeds})
    return evaluate(name, oofs, name, time.time() - t0)


def load(name):
    z = np.load(fname(name))
    return {s: z[str(s)] for s in SEEDS}


def vote(combo, weights=None):
    names = combo.split("+")
    oo = [load(n) for n in names]
    w = np.ones(len(names)) / len(names) if weights is None else np.asarray(weights)
    oofs = {s: sum(wi * o[s] for wi, o in zip(w, oo)) for s in SEEDS}
    return evaluate("vote[" + combo + "]", oofs, f"soft vote weights {list(w)}", 0)


def stack(combo):
    """Nested OOF: per outer fold, inner grouped 5-fold CV on the outer-train rows gives the
    base models' OOF probabilities there; a logistic regression on logit(p) is fitted on those;
    the base models refitted on the whole outer-train score the outer-test rows."""
    from sklearn.linear_model import LogisticRegression
    names = combo.split("+")
    fits = [build(n) for n in names]
    t0 = time.time()
    lg = lambda p: np.log(np.clip(p, 1e-4, 1 - 1e-4) / (1 - np.clip(p, 1e-4, 1 - 1e-4)))
    oofs = {}
    for s in SEEDS:
        out = np.full(len(Y), np.nan)
        for tr, te in FOLDS[s]:
            inner = StratifiedGroupKFold(K, shuffle=True, random_state=s + 1000)
            Zin = np.zeros((len(tr), len(fits)))
            for itr, ite in inner.split(X[tr], Y[tr], GROUPS[tr]):
                for j, f in enumerate(fits):
                    Zin[ite, j] = f(tr[itr], tr[ite], s)
            Zout = np.column_stack([f(tr, te, s) for f in fits])
            m = LogisticRegression(C=1.0).fit(lg(Zin), Y[tr])
            out[te] = m.predict_proba(lg(Zout))[:, 1]
        oofs[s] = out
    np.savez(fname("stack_" + combo), **{str(s): oofs[s] for s in SEEDS})
    return evaluate("stack[" + combo + "]", oofs, "nested-OOF LR on logit(p)", time.time() - t0)


def table():
    r = pd.read_csv(RESULTS).drop_duplicates("name", keep="last")
    r = r.sort_values("f1_tuned_mean", ascending=False)
    with pd.option_context("display.width", 250, "display.max_rows", 500,
                           "display.max_colwidth", 70):
        print(r[["name", "f1_05_mean", "f1_05_sd", "f1_tuned_mean", "f1_tuned_sd",
                 "thr_mean", "foldmean_f1_05", "secs"]].to_string(index=False,
                                                                  float_format="%.4f"))


if __name__ == "__main__":
    cmd, *names = sys.argv[1:]
    for n in names:
        try:
            {"run": run, "vote": vote, "stack": stack}[cmd](n)
        except Exception as e:  # keep going over the list
            print(f"{n} FAILED: {e!r}", flush=True)
    if cmd == "table":
        table()
