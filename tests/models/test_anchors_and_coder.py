import math

import pytest
import torch

from streamer.errors import ConfigError
from streamer.models.anchors import AnchorGenerator, feature_sizes
from streamer.models.box_coder import BoxCoder


def test_feature_sizes_follow_strides_and_round_up_on_p6_p7():
    assert feature_sizes((320, 320)) == [(40, 40), (20, 20), (10, 10), (5, 5), (3, 3)]
    assert feature_sizes((512, 384)) == [(64, 48), (32, 24), (16, 12), (8, 6), (4, 3)]


@pytest.mark.parametrize("size", [(300, 320), (0, 64), (320, 100)])
def test_input_size_must_be_a_multiple_of_32(size):
    with pytest.raises(ConfigError, match="multiple of 32"):
        feature_sizes(size)


def test_level_sizes_are_cells_times_nine():
    generator = AnchorGenerator()
    assert generator.per_cell == 9
    assert generator.level_sizes((320, 320)) == [1600 * 9, 400 * 9, 100 * 9, 25 * 9, 9 * 9]
    assert generator((320, 320)).shape == (sum(generator.level_sizes((320, 320))), 4)


def test_cell_anchors_have_the_paper_sizes_ratios_and_scales():
    anchors = AnchorGenerator().cell_anchors(32)
    widths = anchors[:, 2] - anchors[:, 0]
    heights = anchors[:, 3] - anchors[:, 1]
    areas = widths * heights
    expected_sides = [32 * s for s in (1, 2 ** (1 / 3), 2 ** (2 / 3))] * 3
    assert torch.allclose(areas.sqrt(), torch.tensor(expected_sides), rtol=1e-5)
    assert torch.allclose(heights / widths, torch.tensor([0.5] * 3 + [1.0] * 3 + [2.0] * 3), rtol=1e-5)


def test_first_anchors_sit_on_the_first_cell_centre_and_last_level_uses_size_512():
    generator = AnchorGenerator()
    anchors = generator((64, 64))
    first = anchors[4]  # ratio 1, scale 2^(1/3) on cell (0, 0) of P3
    assert torch.allclose((first[:2] + first[2:]) / 2, torch.tensor([4.0, 4.0]))
    last_level = anchors[-generator.level_sizes((64, 64))[-1] :]
    side = (last_level[3, 2] - last_level[3, 0]).item()
    assert math.isclose(side, 512, rel_tol=1e-5)
    assert torch.allclose((last_level[0, :2] + last_level[0, 2:]) / 2, torch.tensor([64.0, 64.0]))


def test_box_coder_round_trip_and_zero_deltas_give_the_anchor():
    coder = BoxCoder()
    anchors = torch.tensor([[0.0, 0.0, 32.0, 32.0], [10.0, 20.0, 50.0, 100.0]])
    boxes = torch.tensor([[4.0, 2.0, 30.0, 40.0], [0.0, 0.0, 80.0, 60.0]])
    deltas = coder.encode(boxes, anchors)
    assert torch.allclose(coder.decode(deltas.unsqueeze(0), anchors)[0], boxes, atol=1e-4)
    assert torch.allclose(coder.decode(torch.zeros(1, 2, 4), anchors)[0], anchors)
