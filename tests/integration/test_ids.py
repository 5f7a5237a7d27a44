"""New ids: random version-4 UUIDs, distinct across threads, batches and forked processes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from services.infrastructure.ids import new_id


def test_a_new_id_is_a_random_rfc_4122_uuid_of_version_4() -> None:
    for _ in range(1000):
        made = new_id()
        assert made.version == 4
        assert made.variant == "specified in RFC 4122"
        assert UUID(str(made)) == made


def test_ids_drawn_across_many_batches_are_distinct_and_spread_over_every_bit() -> None:
    drawn = [new_id() for _ in range(20_000)]
    assert len(set(drawn)) == len(drawn)
    # Every bit that is not the version's or the variant's takes both values.
    fixed = (0xF000 << 64) | (0xC000 << 48)
    ones = 0
    zeros = 0
    for made in drawn:
        ones |= made.int
        zeros |= ~made.int & ((1 << 128) - 1)
    free = ((1 << 128) - 1) & ~fixed
    assert ones & free == free
    assert zeros & free == free


def test_ids_drawn_by_many_threads_at_once_are_distinct() -> None:
    with ThreadPoolExecutor(16) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(2000)], range(16)))
    drawn = [made for batch in batches for made in batch]
    assert len(set(drawn)) == len(drawn)


def _draw_in_child(pipe: multiprocessing.connection.Connection) -> None:
    pipe.send([new_id() for _ in range(300)])
    pipe.close()


def test_a_forked_process_never_hands_out_the_ids_its_parent_had_drawn() -> None:
    # The parent holds the rest of a drawn batch when it forks.
    new_id()
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_draw_in_child, args=(sending,))
    child.start()
    from_child: list[UUID] = receiving.recv()
    child.join(10)
    from_parent = [new_id() for _ in range(300)]
    assert len(from_child) == 300
    assert not set(from_child) & set(from_parent)
