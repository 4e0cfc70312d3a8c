"""What a result records about the process that made it."""

from threadpoolctl import threadpool_info, threadpool_limits

from whichmodel.provenance import threads


def test_threads_follow_limits_set_after_the_first_look():
    # The libraries are found once (until the next import); their thread counts are read anew.
    before = threads()
    pools = {f"{p['user_api']}:{p['internal_api']}" for p in threadpool_info()}
    assert pools and pools <= set(before)
    with threadpool_limits(limits=1):
        assert all(threads()[name] == 1 for name in pools)
    assert threads() == before
