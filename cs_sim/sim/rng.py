"""Every random stream of cs_sim and its key: one place, so no two components share one.

Replication ``r`` of root seed ``s`` owns these streams, each a
``numpy.random.SeedSequence(s, spawn_key=(r, key))``:

========================  ==============================  ==============
stream                    key                             bit generator
========================  ==============================  ==============
engine components         ``0 .. 8`` (:data:`COMPONENTS`  PCG64DXSM
                          order)
one per play (reach < 1)  ``2**32 + crc32(play name)``    PCG64DXSM
synthetic-data export     ``2**33 + i`` (:data:`SYNTH_    PCG64
                          STREAMS` order)
one per uncertain         ``2**34 + crc32(parameter       PCG64DXSM
parameter                 path)``
========================  ==============================  ==============

A comparison's paired bootstrap (the ROI interval of :mod:`cs_sim.sim.money`) belongs to
no replication: it draws from ``SeedSequence(s, spawn_key=(BOOTSTRAP_KEY,))``
(:func:`bootstrap_generator`, PCG64DXSM), a one-element key that no replication's
two-element key can equal.

The component keys equal ``SeedSequence(s).spawn(R)[r].spawn(9)[c]``. A play's key
comes from its *name*, never its position, so adding, removing or reordering plays
leaves every other play's numbers unchanged (common random numbers). In the same way
a parameter given as a distribution (:mod:`cs_sim.sim.uncertainty`) draws from a stream
keyed by its dotted *path*: one uniform per replication (:func:`param_uniform`), the
same in every scenario that has the parameter. Nothing here keeps global state: each
call builds fresh generators from the seed.

Monthly uniforms of the engine are float32 ``(k + 1/2) / 2**24`` drawn in bulk by
:class:`UniformStream`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOOTSTRAP_KEY",
    "COMPONENTS",
    "MONTHLY_COMPONENTS",
    "PARAM_KEY_BASE",
    "PLAY_KEY_BASE",
    "SYNTH_KEY_BASE",
    "SYNTH_STREAMS",
    "BatchStreams",
    "UniformStream",
    "batch_streams",
    "bootstrap_generator",
    "component_generator",
    "component_generators",
    "param_generator",
    "param_stream_key",
    "param_uniform",
    "play_generator",
    "play_stream_key",
    "synth_generator",
    "to_uniform",
    "words_below",
]

#: random-number components of the engine, in spawn order (their keys are 0 .. 8)
COMPONENTS = (
    "population",
    "acquisition",
    "usage",
    "support",
    "events",
    "surveys",
    "churn",
    "expansion",
    "record",
)
#: the components drawing float32 uniforms every month (:class:`UniformStream`)
MONTHLY_COMPONENTS = ("usage", "support", "events", "surveys", "churn", "expansion")
#: spawn-key base of the plays' streams (a play's key is this + crc32 of its name)
PLAY_KEY_BASE = 2**32
#: spawn-key base of the synthetic-data generator's own streams
SYNTH_KEY_BASE = 2**33
#: spawn-key base of the uncertain parameters' streams (this + crc32 of the path)
PARAM_KEY_BASE = 2**34
#: spawn key of a comparison's bootstrap stream (one element: see the module text)
BOOTSTRAP_KEY = 2**35
#: the synthetic-data generator's streams, in key order
SYNTH_STREAMS = ("accounts", "prospects", "tickets", "surveys", "comments", "usage",
                 "interactions", "trials")

_F = np.float32
_HALF_ULP = np.float32(2.0**-25)  # float32 uniforms are k / 2**24; shift to mid-points


def _generator(seed: int, key: tuple[int, int], *, dxsm: bool = True) -> np.random.Generator:
    ss = np.random.SeedSequence(seed, spawn_key=key)
    return np.random.Generator(np.random.PCG64DXSM(ss) if dxsm else np.random.PCG64(ss))


def component_generators(seed: int, rep: int) -> dict[str, np.random.Generator]:
    """Return the engine's generators of replication ``rep`` by component name."""
    return {name: _generator(seed, (rep, c)) for c, name in enumerate(COMPONENTS)}


def component_generator(seed: int, rep: int, name: str) -> np.random.Generator:
    """Return the generator of one engine component (see :data:`COMPONENTS`)."""
    return _generator(seed, (rep, COMPONENTS.index(name)))


def play_stream_key(name: str) -> int:
    """Stream key of a play: the CRC-32 of its name (stable under reordering)."""
    return zlib.crc32(name.encode("utf-8"))


def play_generator(seed: int, rep: int, key: int) -> np.random.Generator:
    """Return the generator of one play (by its :func:`play_stream_key`) in ``rep``."""
    return _generator(seed, (rep, PLAY_KEY_BASE + key))


def param_stream_key(path: str) -> int:
    """Stream key of an uncertain parameter: the CRC-32 of its dotted path."""
    return zlib.crc32(path.encode("utf-8"))


def param_generator(seed: int, rep: int, key: int) -> np.random.Generator:
    """Return the generator of one uncertain parameter (by its :func:`param_stream_key`)."""
    return _generator(seed, (rep, PARAM_KEY_BASE + key))


def param_uniform(seed: int, rep: int, path: str) -> float:
    """The one uniform that replication ``rep`` draws for the parameter at ``path``.

    ``(k + 1/2) / 2**52``, with ``k`` the top 52 bits of the first 64-bit output of the
    parameter's generator: exact in float64, never 0 or 1 (it lies in
    ``[2**-53, 1 - 2**-53]``), so every quantile function is finite there.
    """
    raw = int(param_generator(seed, rep, param_stream_key(path)).bit_generator.random_raw())
    return ((raw >> 12) + 0.5) * 2.0**-52


def bootstrap_generator(seed: int) -> np.random.Generator:
    """Return the bootstrap stream of a comparison run with root seed ``seed``."""
    return np.random.Generator(
        np.random.PCG64DXSM(np.random.SeedSequence(seed, spawn_key=(BOOTSTRAP_KEY,)))
    )


def synth_generator(seed: int, rep: int, stream: str) -> np.random.Generator:
    """Return the synthetic-data generator's stream ``stream`` (see :data:`SYNTH_STREAMS`)."""
    return _generator(seed, (rep, SYNTH_KEY_BASE + SYNTH_STREAMS.index(stream)), dxsm=False)


class UniformStream:
    """Float32 uniforms of one component, one generator per replication row.

    Gives exactly the numbers of ``gen.random(n, dtype=np.float32) + 2**-25`` called
    month after month on each generator, but about twice as fast: NumPy's float32
    uniform is ``(w >> 8) / 2**24`` for consecutive 32-bit words ``w``, which are the
    low then high halves of the bit generator's 64-bit outputs (an odd count leaves the
    high half for the next call). This class draws the 64-bit outputs in bulk
    (``random_raw``) and keeps that leftover half itself, so the generators must not be
    used by anything else.

    Parameters
    ----------
    gens : list of numpy.random.Generator
        One fresh generator per replication row.
    width : int
        Maximum number of uniforms per row and call.
    scratch : ndarray of uint32, optional
        A ``(len(gens), width + 1)`` buffer for the drawn words, which streams may share:
        the arrays a call returns are then valid until the next call of any of them.
    """

    def __init__(
        self, gens: list[np.random.Generator], width: int, *, scratch: np.ndarray | None = None
    ) -> None:
        self._bits = [g.bit_generator for g in gens]
        self._carry: list[int | None] = [None] * len(gens)
        shape = (len(gens), width + 1)
        if scratch is None:
            scratch = np.empty(shape, dtype=np.uint32)
        elif scratch.shape != shape or scratch.dtype != np.uint32:
            raise ValueError(f"scratch must be a uint32 array of shape {shape}")
        self._words = scratch
        self._out = np.empty((len(gens), width), dtype=_F)
        self._gap: list[tuple[int, int]] | None = None

    def set_gap(self, start: np.ndarray, length: np.ndarray) -> None:
        """Leave positions ``start[r] .. start[r] + length[r] - 1`` of row ``r`` undrawn.

        From then on :meth:`words` draws ``n - length[r]`` values for row ``r`` and
        places them around the gap (which holds stale values): a row's stream then
        depends on its own gap only, whatever the other rows' (the engine's warm-up
        hand-over compacts each row to its own accounts, padded to a common width).
        """
        self._gap = [(int(a), int(b)) for a, b in zip(start, length, strict=True)]

    def get_state(self) -> list[tuple[dict[str, object], int | None]]:
        """Each row's bit-generator state and carried half word: where the stream is."""
        return [(b.state, c) for b, c in zip(self._bits, self._carry, strict=True)]

    def set_state(self, state: list[tuple[dict[str, object], int | None]]) -> None:
        """Resume the stream where :meth:`get_state` found it (the same rows)."""
        for b, (s, _) in zip(self._bits, state, strict=True):
            b.state = s
        self._carry = [c for _, c in state]

    def words(self, n: int) -> np.ndarray:
        """Draw ``n`` values per row as 24-bit integers ``k`` (uniform ``(k + 1/2) / 2**24``)."""
        words = self._words
        for r, bits in enumerate(self._bits):
            row = words[r]
            g0, gl = (0, 0) if self._gap is None else self._gap[r]
            need = n - gl
            c = self._carry[r]
            off = 0
            if c is not None:
                row[0] = c
                off = 1
            m = (need - off + 1) // 2
            if m:
                row[off : off + 2 * m] = bits.random_raw(m).view(np.uint32)
            self._carry[r] = int(row[need]) if off + 2 * m > need else None
            if gl and need > g0:
                row[g0 + gl : n] = row[g0:need].copy()
        k = words[:, :n]
        np.right_shift(k, 8, out=k)
        return k

    def uniform(self, n: int) -> np.ndarray:
        """Draw ``n`` float32 uniforms per row: ``(k + 1/2) / 2**24``, never 0 or 1."""
        return to_uniform(self.words(n), out=self._out[:, :n])


def to_uniform(k: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Float32 uniforms ``k / 2**24 + 2**-25`` (float32 arithmetic) of 24-bit integers."""
    out = np.multiply(k, _F(2.0**-24), out=out, dtype=_F)
    out += _HALF_ULP
    return out


def words_below(p: float) -> int:
    """Number of 24-bit integers ``k`` whose uniform (:func:`to_uniform`) is ``< float32(p)``.

    The uniform is non-decreasing in ``k``, so ``to_uniform(k) < p`` is ``k < words_below(p)``.
    """
    lo, hi = 0, 2**24  # the answer is in [lo, hi]
    target = _F(p)
    while lo < hi:
        mid = (lo + hi) // 2
        if to_uniform(np.array([mid], dtype=np.uint32))[0] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@dataclass
class BatchStreams:
    """The engine's streams for one batch of replications (rows in ``reps`` order).

    Attributes
    ----------
    monthly : dict of str to UniformStream
        One per :data:`MONTHLY_COMPONENTS`; they share one scratch buffer, so each draw
        must be used before the next one of any stream.
    plays : list of UniformStream or None
        One per play with a stream key (None for a play that draws nothing); same buffer.
    acquisition : ndarray
        ``(R, months, 1 + 4 * per_month)`` float64 uniforms of the acquisition
        component, all months at once (the values of drawing month by month).
    """

    monthly: dict[str, UniformStream]
    plays: list[UniformStream | None]
    acquisition: np.ndarray


def batch_streams(
    seed: int,
    reps: Sequence[int],
    width: int,
    play_keys: Sequence[int | None],
    *,
    months: int,
    per_month: int,
) -> BatchStreams:
    """Build the engine's streams of replications ``reps`` (see :class:`BatchStreams`).

    Parameters
    ----------
    seed : int
    reps : sequence of int
    width : int
        Account slots: the most uniforms a monthly stream gives per row and call.
    play_keys : sequence of int or None
        Each play's :func:`play_stream_key`, or None when it draws nothing.
    months, per_month : int
        Horizon and slots per month of new logos (0: no acquisition draws).
    """
    gens = [component_generators(seed, r) for r in reps]
    words = np.empty((len(gens), width + 1), dtype=np.uint32)
    monthly = {
        c: UniformStream([g[c] for g in gens], width, scratch=words) for c in MONTHLY_COMPONENTS
    }
    plays = [
        None if key is None
        else UniformStream([play_generator(seed, r, key) for r in reps], width, scratch=words)
        for key in play_keys
    ]
    if per_month:
        acq = np.stack([g["acquisition"].random((months, 4 * per_month + 1)) for g in gens])
    else:
        acq = np.zeros((len(gens), months, 1))
    return BatchStreams(monthly, plays, acq)
