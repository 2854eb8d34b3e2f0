"""Pure-NumPy twins of the motion kernels (cpp/src/motion.cpp).

They follow the same float32 operations in the same order as the C++ kernels (and OpenCV's
bgsegm MOG, see shared/specs/mog_background_model.md), vectorised over pixels instead of looping
over them. Slow (the MOG twin walks the mixture components with masks), meant for tests,
benchmarks and ``backend="numpy"`` on small frames.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MogReference", "accumulate_mask", "gray", "gray_blur", "diff_accumulate"]

_F = np.float32
_EPS = _F(np.finfo(np.float32).eps)
_NOISE = 30 * 0.5
_VT = _F(2.5 * 2.5)
_W0 = _F(0.05)


class MogReference:
    """NumPy twin of ``heatcore._core.MogModel`` (same parameters, same state layout:
    ``sort_key``/``weight`` (K, H, W), ``mean``/``var`` (K, C, H, W), float32)."""

    def __init__(self, width: int, height: int, channels: int, history: int = 200, nmixtures: int = 5,
                 background_ratio: float = 0.7, noise_sigma: float = 0.0) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.width, self.height, self.channels = width, height, channels
        self.history = history if history > 0 else 200
        self.nmixtures = min(nmixtures if nmixtures > 0 else 5, 8)
        self.background_ratio = min(background_ratio if background_ratio > 0 else 0.95, 1.0)
        self.noise_sigma = noise_sigma if noise_sigma > 0 else _NOISE
        self.nframes = 0
        self._reset()

    def _reset(self) -> None:
        K, C, P = self.nmixtures, self.channels, self.width * self.height
        self.sk = np.zeros((K, P), _F)
        self.w = np.zeros((K, P), _F)
        self.mu = np.zeros((K, C, P), _F)
        self.var = np.zeros((K, C, P), _F)
        self.nframes = 0

    def get_state(self) -> dict:
        K, C, H, W = self.nmixtures, self.channels, self.height, self.width
        return {"nframes": self.nframes, "sort_key": self.sk.reshape(K, H, W).copy(),
                "weight": self.w.reshape(K, H, W).copy(), "mean": self.mu.reshape(K, C, H, W).copy(),
                "var": self.var.reshape(K, C, H, W).copy()}

    def set_state(self, nframes: int, sort_key: np.ndarray, weight: np.ndarray, mean: np.ndarray,
                  var: np.ndarray) -> None:
        K, C, P = self.nmixtures, self.channels, self.width * self.height
        self.nframes = int(nframes)
        self.sk = np.asarray(sort_key, _F).reshape(K, P).copy()
        self.w = np.asarray(weight, _F).reshape(K, P).copy()
        self.mu = np.asarray(mean, _F).reshape(K, C, P).copy()
        self.var = np.asarray(var, _F).reshape(K, C, P).copy()

    @staticmethod
    def _sum_channels(a: np.ndarray) -> np.ndarray:
        s = a[0].copy()
        for c in range(1, a.shape[0]):
            s = s + a[c]
        return s

    def apply(self, frame: np.ndarray, counts: np.ndarray | None = None, roi: np.ndarray | None = None,
              learning_rate: float = -1.0, threads: int = 0, return_mask: bool = True) -> np.ndarray | None:
        """Same contract as ``MogModel.apply`` (``threads`` is ignored)."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            raise TypeError(f"frame must be uint8, got {frame.dtype}")
        C = 1 if frame.ndim == 2 else frame.shape[2]
        if frame.shape[:2] != (self.height, self.width) or C != self.channels:
            raise ValueError(f"frame shape {frame.shape} does not match the model "
                             f"({self.height}, {self.width}, {self.channels})")
        if self.nframes == 0 or learning_rate >= 1:
            self._reset()
        self.nframes += 1
        lr = learning_rate if (learning_rate >= 0 and self.nframes > 1) else 1.0 / min(self.nframes, self.history)
        alpha = _F(lr)
        P = self.width * self.height
        pix = frame.reshape(P, C).T.astype(_F)  # (C, P)
        if alpha > 0:
            fg = self._update(pix, alpha)
        else:
            fg = self._frozen(pix)
        fg = fg.reshape(self.height, self.width)
        if counts is not None:
            add = fg if roi is None else fg & (np.asarray(roi) != 0)
            counts += add.astype(counts.dtype)
        return np.where(fg, np.uint8(255), np.uint8(0)) if return_mask else None

    def _update(self, pix: np.ndarray, alpha: np.float32) -> np.ndarray:
        K, P = self.nmixtures, pix.shape[1]
        W, SK, MU, VR = self.w, self.sk, self.mu, self.var
        minVar = _F(self.noise_sigma * self.noise_sigma)
        var0 = _F(_NOISE * _NOISE * 4)
        sk0 = _F(float(_W0) / (_NOISE * 2)) if self.channels == 1 else _F(float(_W0) / (_NOISE * 2 * math.sqrt(3.0)))
        T = _F(self.background_ratio)
        one = _F(1.0)
        wsum = np.zeros(P, _F)
        khit = np.full(P, -1, np.int64)
        stopk = np.full(P, K, np.int64)
        active = np.ones(P, bool)
        for k in range(K):
            w = W[k].copy()
            wsum[active] = wsum[active] + w[active]
            brk = active & (w < _EPS)
            stopk[brk] = k
            active &= ~brk
            diff = pix - MU[k]
            d2 = self._sum_channels(diff * diff)
            match = active & (d2 < _VT * self._sum_channels(VR[k]))
            if not match.any():
                continue
            m = match
            wsum[m] = wsum[m] - w[m]
            dw = alpha * (one - w[m])
            W[k, m] = w[m] + dw
            MU[k][:, m] = MU[k][:, m] + alpha * diff[:, m]
            nv = VR[k][:, m] + alpha * (diff[:, m] * diff[:, m] - VR[k][:, m])
            nv = np.where(nv < minVar, minVar, nv)
            VR[k][:, m] = nv
            SK[k, m] = w[m] / np.sqrt(self._sum_channels(nv))
            stopk[m] = k
            active &= ~m
            pos = np.full(P, -1, np.int64)
            pos[m] = k
            moving = m.copy()
            for k1 in range(k - 1, -1, -1):
                moving = moving & (SK[k1] < SK[k1 + 1])
                if not moving.any():
                    break
                for arr in (SK, W):
                    a, b = arr[k1, moving].copy(), arr[k1 + 1, moving].copy()
                    arr[k1, moving], arr[k1 + 1, moving] = b, a
                for arr in (MU, VR):  # type: ignore[assignment]
                    a, b = arr[k1][:, moving].copy(), arr[k1 + 1][:, moving].copy()
                    arr[k1][:, moving], arr[k1 + 1][:, moving] = b, a
                pos[moving] = k1
            khit[m] = pos[m]
        nomatch = khit < 0
        kk = np.minimum(stopk, K - 1)
        idx = np.nonzero(nomatch)[0]
        if idx.size:
            kn = kk[idx]
            khit[idx] = kn
            wsum[idx] = wsum[idx] + (_W0 - W[kn, idx])
            W[kn, idx] = _W0
            MU[kn, :, idx] = pix[:, idx].T
            VR[kn, :, idx] = var0
            SK[kn, idx] = sk0
        matched = ~nomatch
        for k in range(K):
            m = matched & (k >= stopk)
            wsum[m] = wsum[m] + W[k, m]
        scale = one / wsum
        cum = np.zeros(P, _F)
        kfg = np.full(P, -1, np.int64)
        for k in range(K):
            W[k] = W[k] * scale
            cum = cum + W[k]
            SK[k] = SK[k] * scale
            kfg = np.where((kfg < 0) & (cum > T), k + 1, kfg)
        return khit >= kfg

    def _frozen(self, pix: np.ndarray) -> np.ndarray:
        K, P = self.nmixtures, pix.shape[1]
        T = _F(self.background_ratio)
        khit = np.full(P, -1, np.int64)
        active = np.ones(P, bool)
        for k in range(K):
            active &= ~(self.w[k] < _EPS)
            diff = pix - self.mu[k]
            d2 = self._sum_channels(diff * diff)
            m = active & (d2 < _VT * self._sum_channels(self.var[k]))
            khit[m] = k
            active &= ~m
        cum = np.zeros(P, _F)
        kfg = np.full(P, -1, np.int64)
        for k in range(K):
            cum = cum + self.w[k]
            kfg = np.where((kfg < 0) & (cum > T), k + 1, kfg)
        return (khit < 0) | (khit >= kfg)


def accumulate_mask(mask: np.ndarray, counts: np.ndarray, roi: np.ndarray | None = None, min_value: int = 1,
                    threads: int = 0) -> int:
    """``counts += (mask >= min_value) & (roi != 0)`` in place; returns the number added."""
    add = np.asarray(mask) >= min_value if min_value > 0 else np.ones(np.shape(mask), bool)
    if roi is not None:
        add &= np.asarray(roi) != 0
    counts += add.astype(counts.dtype)
    return int(add.sum())


def gray(frame: np.ndarray) -> np.ndarray:
    """BGR -> gray with OpenCV's rounding for uint8 (15-bit fixed point); gray passes through."""
    frame = np.asarray(frame)
    if frame.ndim == 2:
        return frame.copy()
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[..., 0].copy()
    b, g, r = (frame[..., i].astype(np.int64) for i in range(3))
    return ((b * 3735 + g * 19235 + r * 9798 + (1 << 14)) >> 15).astype(np.uint8)


MAX_BLUR = (1 << 22) - 1  # as heatcore::kMaxBlur; also at most the frame's longer side


def _reflect101(idx: np.ndarray, n: int) -> np.ndarray:
    if n == 1:
        return np.zeros_like(idx)
    period = 2 * n - 2
    idx = np.abs(idx) % period
    return np.where(idx >= n, period - idx, idx)


def _window_sums(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    """Sums of ``a`` over windows [i - r, i + r] along ``axis`` with reflect-101 borders, for any
    r (however many times the window wraps): the reflected sequence is periodic, so a window sum
    is a difference of two prefix sums over whole periods plus a partial period."""
    a = np.moveaxis(a, axis, 0)
    n = a.shape[0]
    period = 1 if n == 1 else 2 * n - 2
    one = a[_reflect101(np.arange(period), n)]  # one period of the reflected sequence
    pre = np.concatenate([np.zeros((1,) + a.shape[1:], np.int64), np.cumsum(one, axis=0, dtype=np.int64)])

    def prefix(m: np.ndarray) -> np.ndarray:  # sum of the reflected sequence over [0, m), any m
        q, rem = np.divmod(m, period)
        return q.reshape((-1,) + (1,) * (a.ndim - 1)) * pre[period] + pre[rem]

    i = np.arange(n)
    return np.moveaxis(prefix(i + r + 1) - prefix(i - r), 0, axis)


def gray_blur(frame: np.ndarray, ksize: int = 11, threads: int = 0) -> np.ndarray:
    """Gray + normalised ksize x ksize box blur with reflect-101 borders, rounded (as cv2.blur).
    ksize: odd, at most the frame's longer side (and ``MAX_BLUR``)."""
    if ksize < 1 or ksize % 2 == 0:
        raise ValueError(f"blur size must be an odd number >= 1, got {ksize}")
    g = gray(frame).astype(np.int64)
    h, w = g.shape
    if ksize > max(h, w) or ksize > MAX_BLUR:
        raise ValueError(f"blur size {ksize} is larger than the frame ({w}x{h}): it must be at most the longer "
                         f"side, and at most {MAX_BLUR}")
    r = ksize // 2
    s = _window_sums(_window_sums(g, r, 1), r, 0)
    area = ksize * ksize
    return ((2 * s + area) // (2 * area)).astype(np.uint8)


def diff_accumulate(frame: np.ndarray, reference: np.ndarray, acc: np.ndarray, ksize: int = 11,
                    roi: np.ndarray | None = None, threshold: int = -1, threads: int = 0) -> float:
    """``acc += |gray_blur(frame) - reference|`` (or 1 where it exceeds ``threshold`` >= 0) inside
    ``roi``; returns the total added."""
    b = gray_blur(frame, ksize)
    d = np.abs(b.astype(np.int64) - np.asarray(reference, np.int64))
    v = d if threshold < 0 else (d > threshold).astype(np.int64)
    if roi is not None:
        v = np.where(np.asarray(roi) != 0, v, 0)
    acc += v.astype(acc.dtype)
    return float(v.sum())
