import numpy as np

from streamer.train.quality import QualityDataset


def _frames():
    rng = np.random.default_rng(0)
    return [rng.integers(60, 200, (72, 96, 3), dtype=np.uint8) for _ in range(3)]


def test_items_alternate_good_and_degraded_copy():
    dataset = QualityDataset(
        _frames(), input_size=(32, 32), mean=(0, 0, 0), std=(1, 1, 1), fixed=True, seed=1
    )
    assert len(dataset) == 6
    (good, good_label), (bad, bad_label) = dataset[2], dataset[3]
    assert (good_label, bad_label) == (0, 1)
    assert good.shape == bad.shape == (3, 32, 32)
    assert not np.allclose(good.numpy(), bad.numpy(), atol=0.02)


def test_fixed_items_repeat_and_training_items_vary():
    frames = _frames()
    fixed = QualityDataset(frames, input_size=(32, 32), mean=(0, 0, 0), std=(1, 1, 1), fixed=True, seed=1)
    assert np.array_equal(fixed[1][0].numpy(), fixed[1][0].numpy())
    varying = QualityDataset(frames, input_size=(32, 32), mean=(0, 0, 0), std=(1, 1, 1), fixed=False, seed=1)
    assert not np.array_equal(varying[1][0].numpy(), varying[1][0].numpy())
