"""Pure-NumPy twin of the MOG2 kernel (cpp/src/mog2.cpp, ``heatcore._core.Mog2Model``).

Zivkovic's adaptive Gaussian mixture with the semantics of OpenCV's
``cv2.createBackgroundSubtractorMOG2``: the same float32 operations in the same order, but
vectorised over pixels (every pixel walks its mixture components in lock step, with masks for
the pixels whose walk has ended, matched, or been shortened by pruning) instead of looping over
pixels. Slow; meant for tests on small frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Mog2Reference"]

_F = np.float32
_FLT_EPS = _F(np.finfo(np.float32).eps)


class Mog2Reference:
    """NumPy twin of ``heatcore._core.Mog2Model``: same constructor, ``apply``, ``get_state`` and
    ``set_state`` (weight/var (H, W, K), mean (H, W, K, C) float32, modes_used (H, W) uint8)."""

    def __init__(self, width: int, height: int, channels: int, history: int = 500, var_threshold: float = 16.0,
                 detect_shadows: bool = True, nmixtures: int = 5, background_ratio: float = 0.9,
                 var_threshold_gen: float = 9.0, var_init: float = 15.0, var_min: float = 4.0,
                 var_max: float = 75.0, complexity_reduction_threshold: float = 0.05, shadow_value: int = 127,
                 shadow_threshold: float = 0.5) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if not 1 <= nmixtures <= 255:
            raise ValueError(f"nmixtures must be in 1..255, got {nmixtures}")
        if not 0 <= shadow_value <= 255:
            raise ValueError(f"shadow_value must be in 0..255, got {shadow_value}")
        self.width, self.height, self.channels = int(width), int(height), int(channels)
        self.history = int(history) if history > 0 else 500
        self.var_threshold = float(_F(var_threshold)) if var_threshold > 0 else 16.0
        self.detect_shadows = bool(detect_shadows)
        self.nmixtures = int(nmixtures)
        self.shadow_value = int(shadow_value)
        self._TB = _F(background_ratio)
        self._Tg = _F(var_threshold_gen)
        self._Tb = _F(self.var_threshold)
        self._var_init = _F(var_init)
        vmin, vmax = _F(var_min), _F(var_max)
        self._var_min, self._var_max = min(vmin, vmax), max(vmin, vmax)
        self._cT = _F(complexity_reduction_threshold)
        self._tau = _F(shadow_threshold)
        self._reset()

    def _reset(self) -> None:
        K, C, P = self.nmixtures, self.channels, self.width * self.height
        self.w = np.zeros((K, P), _F)
        self.v = np.zeros((K, P), _F)
        self.mu = np.zeros((K, P, C), _F)
        self.n = np.zeros(P, np.int64)
        self.nframes = 0

    # -- state ------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        K, C, H, W = self.nmixtures, self.channels, self.height, self.width
        live = np.arange(K)[:, None] < self.n[None, :]
        w = np.where(live, self.w, _F(0)).T.reshape(H, W, K)
        v = np.where(live, self.v, _F(0)).T.reshape(H, W, K)
        mu = np.where(live[..., None], self.mu, _F(0)).transpose(1, 0, 2).reshape(H, W, K, C)
        return {"nframes": self.nframes, "weight": w.astype(_F), "var": v.astype(_F), "mean": mu.astype(_F),
                "modes_used": self.n.reshape(H, W).astype(np.uint8)}

    def set_state(self, nframes: int, weight: np.ndarray, var: np.ndarray, mean: np.ndarray,
                  modes_used: np.ndarray) -> None:
        K, C, H, W = self.nmixtures, self.channels, self.height, self.width
        P = H * W
        for name, a, shape in (("weight", weight, (H, W, K)), ("var", var, (H, W, K)),
                               ("mean", mean, (H, W, K, C)), ("modes_used", modes_used, (H, W))):
            if np.shape(a) != shape:
                raise ValueError(f"state array {name} has shape {np.shape(a)}, the model needs {shape}")
        used = np.asarray(modes_used).astype(np.int64).reshape(P)
        if used.max(initial=0) > K:
            raise ValueError(f"modes_used has {used.max()}, above nmixtures = {K}")
        if nframes < 0:
            raise ValueError(f"nframes must be >= 0, got {nframes}")
        self.w = np.asarray(weight, _F).reshape(P, K).T.copy()
        self.v = np.asarray(var, _F).reshape(P, K).T.copy()
        self.mu = np.asarray(mean, _F).reshape(P, K, C).transpose(1, 0, 2).copy()
        self.n = used
        self.nframes = int(nframes)

    # -- update -----------------------------------------------------------------------------
    def _swap(self, sel: np.ndarray, i: int, j: int) -> None:
        for a in (self.w, self.v, self.mu):
            t = a[i, sel].copy()
            a[i, sel] = a[j, sel]
            a[j, sel] = t

    def apply(self, frame: np.ndarray, counts: np.ndarray | None = None, roi: np.ndarray | None = None,
              learning_rate: float = -1.0, threads: int = 0, return_mask: bool = True,
              count_shadows: bool = False) -> np.ndarray | None:
        """One frame (uint8 (H, W) or (H, W, 3)); see ``Mog2Model.apply``. ``threads`` is ignored."""
        frame = np.asarray(frame)
        if frame.ndim == 3 and frame.shape[2] == 1:
            frame = frame[..., 0]
        want = (self.height, self.width) + ((3,) if self.channels == 3 else ())
        if frame.dtype != np.uint8 or frame.shape != want:
            raise ValueError(f"frame has shape {frame.shape} ({frame.dtype}); the model takes uint8 frames of "
                             f"shape {want}")
        if self.nframes == 0 or learning_rate >= 1:
            self._reset()
        self.nframes += 1
        if learning_rate >= 0 and self.nframes > 1:
            lr = float(learning_rate)
        else:
            lr = 1.0 / min(2 * self.nframes, self.history)
        with np.errstate(all="ignore"):
            mask = self._update(frame.reshape(-1, self.channels).astype(_F), _F(lr), _F(-lr * float(self._cT)))
        mask = mask.reshape(self.height, self.width)
        if counts is not None:
            cmin = 255
            if count_shadows and self.detect_shadows:
                cmin = max(1, self.shadow_value)
            hit = mask >= cmin
            if roi is not None:
                hit &= np.asarray(roi) != 0
            counts += hit.astype(counts.dtype)
        return mask if return_mask else None

    def _update(self, x: np.ndarray, aT: np.float32, prune: np.float32) -> np.ndarray:
        K, C = self.nmixtures, self.channels
        P = x.shape[0]
        w, v, mu = self.w, self.v, self.mu
        a1 = _F(1) - aT
        Tb, TB, Tg = self._Tb, self._TB, self._Tg
        bg = np.zeros(P, bool)
        fits = np.zeros(P, bool)
        total = np.zeros(P, _F)
        n = self.n.copy()
        rows = np.arange(P)
        # 1. walk the components (n shrinks while walking when a weight is pruned)
        for m in range(K):
            act = m < n
            if not act.any():
                break
            wm = a1 * w[m] + prune
            chk = act & ~fits
            var = v[m]
            d = mu[m] - x
            dist2 = d[:, 0] * d[:, 0]
            for c in range(1, C):
                dist2 = dist2 + d[:, c] * d[:, c]
            bg |= chk & (total < TB) & (dist2 < Tb * var)
            hit = chk & (dist2 < Tg * var)
            fits |= hit
            w2 = wm + aT
            r = aT / w2
            mu[m, hit] = mu[m, hit] - r[hit, None] * d[hit]
            vn = var + r * (dist2 - var)
            vn = np.where(vn < self._var_min, self._var_min, vn)
            vn = np.where(vn > self._var_max, self._var_max, vn)
            v[m, hit] = vn[hit]
            wm = np.where(hit, w2, wm)
            moved = np.zeros(P, np.int64)
            bub = hit
            for i in range(m, 0, -1):
                bub = bub & ~(wm < w[i - 1])
                if not bub.any():
                    break
                self._swap(bub, i, i - 1)
                moved += bub
            pr = act & (wm < -prune)
            wm = np.where(pr, _F(0), wm)
            n = n - pr
            sel = rows[act]
            w[(m - moved)[act], sel] = wm[act]
            total = np.where(act, total + wm, total)
        # 2. renormalise
        inv = np.where(np.abs(total) > _FLT_EPS, _F(1) / total, _F(0)).astype(_F)
        for m in range(K):
            sel = m < n
            w[m, sel] = w[m, sel] * inv[sel]
        # 3. a new component where nothing matched
        if aT > 0:
            new = ~fits
            full = n == K
            slot = np.where(full, K - 1, n)
            n = np.where(new & ~full, n + 1, n)
            one = new & (n == 1)
            w[slot[one], rows[one]] = _F(1)
            more = new & (n > 1)
            w[slot[more], rows[more]] = aT
            for i in range(K - 1):
                s = more & (i < n - 1)
                w[i, s] = w[i, s] * a1
            w_new = rows[new]
            mu[slot[new], w_new] = x[new]
            v[slot[new], w_new] = self._var_init
            still = new.copy()
            for i in range(K - 1, 0, -1):
                part = still & (i <= n - 1)
                go = part & ~(aT < w[i - 1])
                self._swap(go, i, i - 1)
                still &= ~(part & ~go)
        self.n = n
        # 4. mask and shadows
        mask = np.where(bg, 0, 255).astype(np.uint8)
        if self.detect_shadows:
            undecided = ~bg
            shadow = np.zeros(P, bool)
            tw = np.zeros(P, _F)
            for m in range(K):
                part = undecided & (m < n)
                if not part.any():
                    break
                num: np.ndarray = x[:, 0] * mu[m, :, 0]
                den: np.ndarray = mu[m, :, 0] * mu[m, :, 0]
                for c in range(1, C):
                    num = num + x[:, c] * mu[m, :, c]
                    den = den + mu[m, :, c] * mu[m, :, c]
                zero = part & (den == 0)
                undecided &= ~zero
                part &= ~zero
                cand = part & (num <= den) & (num >= self._tau * den)
                a = num / den
                dd = a * mu[m, :, 0] - x[:, 0]
                d2: np.ndarray = dd * dd
                for c in range(1, C):
                    dd = a * mu[m, :, c] - x[:, c]
                    d2 = d2 + dd * dd
                yes = cand & (d2 < Tb * v[m] * a * a)
                shadow |= yes
                undecided &= ~yes
                part &= ~yes
                tw = np.where(part, tw + w[m], tw)
                undecided &= ~(part & (tw > TB))
            mask[shadow] = self.shadow_value
        return mask
