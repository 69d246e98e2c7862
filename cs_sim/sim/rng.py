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
_NO_WORDS = np.zeros(0, dtype=np.uint32)


def _generator(seed: int, key: tuple[int, int], *, dxsm: bool = True) -> np.random.Generator:
    ss = np.random.SeedSequence(seed, spawn_key=key)
    return np.random.Generator(np.random.PCG64DXSM(ss) if dxsm else np.random.PCG64(ss))


def component_generators(
    seed: int, rep: int, names: Sequence[str] = COMPONENTS
) -> dict[str, np.random.Generator]:
    """Return the engine's generators of replication ``rep`` by component name.

    ``names``: only these components (creating a generator takes some time).
    """
    return {name: _generator(seed, (rep, c)) for c, name in enumerate(COMPONENTS)
            if name in names}


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
            scratch = np.zeros(shape, dtype=np.uint32)
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
        self._gap = list(zip(np.asarray(start).tolist(), np.asarray(length).tolist(),
                             strict=True))

    def get_state(self) -> list[tuple[dict[str, object], int | None]]:
        """Each row's bit-generator state and carried half word: where the stream is."""
        return [(b.state, c) for b, c in zip(self._bits, self._carry, strict=True)]

    def set_state(self, state: list[tuple[dict[str, object], int | None]]) -> None:
        """Resume the stream where :meth:`get_state` found it (the same rows)."""
        for b, (s, _) in zip(self._bits, state, strict=True):
            b.state = s
        self._carry = [c for _, c in state]

    def words(self, n: int) -> np.ndarray:
        """Draw ``n`` values per row as 24-bit integers ``k`` (uniform ``(k + 1/2) / 2**24``).

        Each row's new words are shifted straight into place (around its gap).
        """
        out = self._words
        gap, carry = self._gap, self._carry
        shift = np.right_shift
        u32 = np.uint32
        for r, bits in enumerate(self._bits):
            g0, gl = (0, 0) if gap is None else gap[r]
            need = n - gl  # the row's words in stream order: the carried half, then new ones
            c = carry[r]
            if c is None:
                m = (need + 1) >> 1
                if m <= 0:
                    continue
                seq = bits.random_raw(m).view(u32)
                carry[r] = int(seq[need]) if need & 1 else None
                row = out[r]
                if not gl or g0 >= need:  # one piece: stream position p goes to slot p
                    shift(seq[:need] if need & 1 else seq, 8, out=row[:need])
                    continue
                # positions p < g0 go to slot p, the others to p + gl
                if g0:
                    shift(seq[:g0], 8, out=row[:g0])
                shift(seq[g0:need], 8, out=row[g0 + gl : need + gl])
                continue
            m = need >> 1  # the carried half is position 0
            seq = bits.random_raw(m).view(u32) if m > 0 else _NO_WORDS
            carry[r] = (c if need == 0 else int(seq[need - 1])) if (need & 1) == 0 else None
            if need <= 0:
                continue
            row = out[r]
            row[gl if g0 == 0 else 0] = c >> 8
            head = min(g0, need) if gl else need  # positions [1, head) to slots [1, head)
            if head > 1:
                shift(seq[: head - 1], 8, out=row[1:head])
            lo = max(head, 1)
            if need > lo:
                shift(seq[lo - 1 : need - 1], 8, out=row[lo + gl : need + gl])
        return out[:, :n]

    def uniform(self, n: int) -> np.ndarray:
        """Draw ``n`` float32 uniforms per row: ``(k + 1/2) / 2**24``, never 0 or 1."""
        return to_uniform(self.words(n), out=self._out[:, :n])


def to_uniform(k: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Float32 uniforms ``k / 2**24 + 2**-25`` (float32 arithmetic) of 24-bit integers."""
    if k.dtype == np.uint32:  # k < 2**24: as int32, the same values convert faster
        k = k.view(np.int32)
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
    used = ("acquisition", *MONTHLY_COMPONENTS)  # the engine's (not population, record)
    gens = [component_generators(seed, r, used) for r in reps]
    words = np.zeros((len(gens), width + 1), dtype=np.uint32)
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
