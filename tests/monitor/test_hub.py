"""The hand-off points never wait for a viewer: the newest frame wins, event backlogs are bounded."""

import threading
import time

from streamer.monitor.hub import EVENT_BACKLOG, EventHub, FrameBroadcast


def test_a_viewer_gets_the_newest_frame_not_every_frame():
    broadcast = FrameBroadcast()
    for n in range(5):
        broadcast.publish(bytes([n]))
    sequence, jpeg = broadcast.newer_than(0, timeout_s=0.1)
    assert (sequence, jpeg) == (5, bytes([4]))
    assert broadcast.newer_than(sequence, timeout_s=0.05) is None  # nothing newer yet


def test_a_waiting_viewer_wakes_on_publish_and_on_close():
    broadcast = FrameBroadcast()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(broadcast.newer_than(0, timeout_s=5)))
    waiter.start()
    time.sleep(0.05)
    broadcast.publish(b"jpeg")
    waiter.join(2)
    assert got == [(1, b"jpeg")]
    waiter = threading.Thread(target=lambda: got.append(broadcast.newer_than(1, timeout_s=5)))
    waiter.start()
    broadcast.close()
    waiter.join(2)
    assert not waiter.is_alive() and got[-1] is None


def test_a_viewer_that_never_reads_keeps_only_its_newest_events():
    hub = EventHub()
    reader, idle = hub.subscribe(), hub.subscribe()
    for n in range(EVENT_BACKLOG + 10):
        hub.publish("frame", {"index": n})
        if n == 0:
            assert reader.next(0.1) == ['event: frame\ndata: {"index":0}\n\n']
    backlog = idle.next(0.1)
    assert len(backlog) == EVENT_BACKLOG
    assert backlog[0] == 'event: frame\ndata: {"index":10}\n\n'
    idle.close()
    assert hub.viewers == 1
