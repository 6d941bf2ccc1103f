"""Fits shared by the evidence and corroboration models: weighted and listwise logistic
regressions on standardised features."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from assistant.evidence import LogisticModel

L2 = 1.0


def fit_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, names: tuple[str, ...], l2: float = L2
) -> LogisticModel:
    """Weighted, L2-regularised logistic regression on standardised features (Newton)."""
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (w * (p - y)) + penalty * beta
        hessian = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(names, mean, scale, beta[:-1], float(beta[-1]))


def fit_choice(
    groups: list[tuple[np.ndarray, np.ndarray]], names: tuple[str, ...], l2: float = L2
) -> LogisticModel:
    """Listwise (conditional) logistic regression: for each group of candidates holding at
    least one positive, maximise the softmax probability of its positives (L-BFGS)."""
    groups = [(x, y) for x, y in groups if y.any()]
    x_all = np.vstack([x for x, _ in groups])
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0)
    scale[scale < 1e-9] = 1.0
    standard = [((x - mean) / scale, y.astype(bool)) for x, y in groups]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = l2 * (w @ w) / 2, l2 * w
        for z, y in standard:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mass = p[y].sum()
            total -= np.log(mass + 1e-12)
            gradient = gradient - z.T @ (np.where(y, p / (mass + 1e-12), 0.0) - p)
        return total, gradient

    weights = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B").x
    return LogisticModel(names, mean, scale, weights, 0.0)
