"""Where the local chat model's prompt is cut into evaluation blocks (models/prompt_blocks.py)."""

from nbaudio.server.models.prompt_blocks import block_starts, reusable_start

START, BOS = 1, 7  # a message-start token (ChatML's <|im_start|>), a BOS that is not one


def test_a_block_starts_at_every_message_and_every_size_tokens_within_one():
    tokens = [START, 10, 11, 12, 13, 14, START, 20, 21, START, 30]
    assert block_starts(tokens, 4) == [0, 4, 6, 9]


def test_after_a_bos_the_next_token_marks_the_messages():
    tokens = [BOS, START, 10, 11, START, 20, START, 30]
    assert block_starts(tokens, 64) == [0, 1, 4, 6]


def test_a_prompt_without_messages_is_cut_every_size_tokens():
    assert block_starts(list(range(10)), 4) == [0, 4, 8]
    assert block_starts([], 4) == [0] and block_starts([5], 4) == [0]


def test_the_same_first_messages_are_cut_the_same_way_whatever_follows():
    earlier = [START, 10, 11, 12, 13, START, 20, 21, START, 30]
    later = [*earlier, 31, 32, START, 40, START, 50]
    assert block_starts(earlier, 3) == [0, 3, 5, 8]
    assert block_starts(later, 3) == [0, 3, 5, 8, 11, 12, 14]


def test_only_whole_blocks_before_the_shared_prefix_are_kept():
    starts = [0, 4, 6, 9]
    assert reusable_start(starts, 8) == 6
    assert reusable_start(starts, 6) == 6
    assert reusable_start(starts, 3) == 0
