"""The peer's own data, read by our package: records event-pipeline's RedisStoreBackend wrote
(pickled state dicts) through our seed-API RedisStoreBackend with ``codec="pickle"``, and the
other way round, on the real Redis."""

from __future__ import annotations

import pytest
import redis as redis_py
from event_pipeline.backends.stores.redis_store import RedisStoreBackend as PeerRedis
from event_pipeline.result import EventResult

import recordstore
from recordstore.backends import RedisStoreBackend
from conftest import REDIS, hostport, unique


def test_peer_and_ours_share_one_redis_with_codec_pickle() -> None:
    host, port = hostport(REDIS)
    schema = unique("peerdata")
    peer = PeerRedis(host=host, port=port, db=0)
    ours = RedisStoreBackend(host=host, port=port, db=0, codec="pickle")
    try:
        written = []
        for i in range(5):
            r = EventResult(error=False, event_name=f"ev{i}", content={"n": i, "who": "ü"},
                            task_id=f"t{i}", init_params=None, call_params=None)
            peer.insert_record(schema, r.id, r)
            written.append(r)
        assert ours.count(schema) == 5
        got = ours.get_record(schema, EventResult, written[2].id)
        assert isinstance(got, EventResult)
        assert (got.event_name, got.content, got.id) == ("ev2", {"n": 2, "who": "ü"}, written[2].id)
        found = ours.filter_record(schema, EventResult, event_name="ev4")
        assert [x.id for x in found] == [written[4].id]

        # We write, the peer reads.
        got.event_name = "renamed"
        ours.update_record(schema, got.id, got)
        back = peer.get_record(schema, EventResult, got.id)
        assert back.event_name == "renamed" and back.content == {"n": 2, "who": "ü"}

        # Without the codec, the peer's pickles are corrupt JSON, named by key: never "not found".
        plain = recordstore.open(f"redis://{REDIS}/0")
        with pytest.raises(recordstore.Corrupt) as e:
            plain.get(schema, got.id)
        assert e.value.key == got.id
    finally:
        redis_py.Redis(host=host, port=port, db=0).delete(schema)
        ours.close()
