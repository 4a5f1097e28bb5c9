"""Counter-based random draws: every value is a pure function of (seed, stream, key).

A sequential random generator would tie each row's values to everything generated before it, so
a row could only be rebuilt by replaying the whole entity. Hashing the key instead lets any chunk,
or any single row, be regenerated on its own: orders look up their customer's state, a late update
rebuilds the old order it amends, a near-duplicate rebuilds the customer it copies, and chunks can
be cut anywhere without changing a byte of the output.

The mixer is SplitMix64's finaliser, applied twice (to the key, then to the key xor the stream),
which passes the usual avalanche tests and vectorises to a handful of numpy operations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U64Array = npt.NDArray[np.uint64]
I64Array = npt.NDArray[np.int64]
F64Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / float(1 << 53)


def mix64(values: U64Array) -> U64Array:
    """SplitMix64's finaliser: a bijection on 64-bit integers with good avalanche."""
    # uint64 arithmetic is meant to wrap; numpy only warns about it on scalars.
    with np.errstate(over="ignore"):
        z = values + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MUL1
        z = (z ^ (z >> np.uint64(27))) * _MUL2
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


class Draws:
    """Deterministic per-key random values for one seed.

    ``stream`` names what is being drawn ("customer.first_name"), so two attributes of the same
    row are independent; ``keys`` are the row's stable identifiers (customer ids, order ids, or a
    composite such as ``order_id * 64 + line``).

    >>> draws = Draws(42)
    >>> bool((draws.uniform("x", np.arange(3)) == draws.uniform("x", np.arange(3))).all())
    True
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._streams: dict[str, np.uint64] = {}

    def _stream_key(self, stream: str) -> np.uint64:
        key = self._streams.get(stream)
        if key is None:
            # blake2b, not hash(): Python salts str hashes per process.
            digest = hashlib.blake2b(f"{self._seed}\x00{stream}".encode(), digest_size=8).digest()
            key = np.uint64(int.from_bytes(digest, "little"))
            self._streams[stream] = key
        return key

    def bits(self, stream: str, keys: npt.ArrayLike) -> U64Array:
        """64 uniformly distributed bits per key."""
        as_u64 = np.asarray(keys, dtype=np.int64).astype(np.uint64)
        return mix64(mix64(as_u64) ^ self._stream_key(stream))

    def uniform(self, stream: str, keys: npt.ArrayLike) -> F64Array:
        """Uniform floats in [0, 1)."""
        top53 = self.bits(stream, keys) >> np.uint64(11)
        return top53.astype(np.float64) * _INV_2_53

    def below(self, stream: str, keys: npt.ArrayLike, bound: int | npt.ArrayLike) -> I64Array:
        """Uniform integers in [0, bound); ``bound`` may differ per key (each must be >= 1)."""
        scaled = self.uniform(stream, keys) * np.asarray(bound, dtype=np.float64)
        return np.minimum(scaled.astype(np.int64), np.asarray(bound, dtype=np.int64) - 1)

    def between(self, stream: str, keys: npt.ArrayLike, low: int, high: int) -> I64Array:
        """Uniform integers in [low, high] (inclusive)."""
        return low + self.below(stream, keys, high - low + 1)

    def chance(self, stream: str, keys: npt.ArrayLike, probability: float) -> BoolArray:
        """True with the given probability, per key."""
        return self.uniform(stream, keys) < probability

    def weighted(self, stream: str, keys: npt.ArrayLike, weights: Sequence[float]) -> I64Array:
        """Indexes into ``weights``, drawn in proportion to them."""
        cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
        target = self.uniform(stream, keys) * cumulative[-1]
        picked = np.searchsorted(cumulative, target, side="right")
        return np.asarray(np.minimum(picked, len(weights) - 1), dtype=np.int64)

    def normal(self, stream: str, keys: npt.ArrayLike) -> F64Array:
        """Standard normal values (Box-Muller over two independent uniform streams)."""
        u1 = 1.0 - self.uniform(f"{stream}#1", keys)  # in (0, 1], so the log is finite
        u2 = self.uniform(f"{stream}#2", keys)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_digits(values: U64Array, width: int = 16) -> npt.NDArray[np.uint8]:
    """The low ``width`` hex digits of each value, as an (n, width) array of ASCII codes."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = (values[:, None] >> shifts[None, :]) & np.uint64(0xF)
    return np.asarray(_HEX[nibbles.astype(np.intp)], dtype=np.uint8)


def uuid_like(high: U64Array, low: U64Array) -> npt.NDArray[np.uint8]:
    """Format 128 random bits per row as version-4 style UUID text: an (n, 36) array of ASCII.

    The version nibble is forced to 4 and the variant bits to 10xx, so the strings pass a UUID
    validator; they are deterministic, not random.
    """
    version_mask = np.uint64(0xFFFFFFFFFFFF0FFF)
    high = (high & version_mask) | np.uint64(0x4000)
    low = (low & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    digits = np.concatenate([hex_digits(high), hex_digits(low)], axis=1)
    dash = np.full((len(high), 1), ord("-"), dtype=np.uint8)
    parts = [digits[:, 0:8], dash, digits[:, 8:12], dash, digits[:, 12:16], dash]
    parts += [digits[:, 16:20], dash, digits[:, 20:32]]
    return np.ascontiguousarray(np.concatenate(parts, axis=1))
