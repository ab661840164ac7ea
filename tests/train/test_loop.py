import pytest
import torch
from torch import nn

from streamer.errors import ConfigError
from streamer.train.loop import LoopConfig, fit, is_better


def _problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).long()
    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
    model = nn.Linear(3, 2)

    def step_loss(net, batch):
        return {"loss": nn.functional.cross_entropy(net(batch[0]), batch[1])}

    def validate(net):
        return {"score": float((net(x).argmax(1) == y).float().mean())}

    return model, step_loss, batches, validate


def test_fit_learns_saves_and_resumes(tmp_path):
    model, step_loss, batches, validate = _problem()
    config = LoopConfig(run_dir=tmp_path, epochs=3, lr=0.05, progress=False)
    result = fit(model, step_loss, batches, validate, config)
    assert result.epochs == 3 and result.steps == 12
    assert result.best["score"] > 0.8
    assert (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "best.pt").is_file()
    assert any((tmp_path / "tensorboard").iterdir())
    resumed = fit(
        model,
        step_loss,
        batches,
        validate,
        LoopConfig(run_dir=tmp_path, epochs=5, lr=0.05, progress=False, resume=True),
    )
    assert resumed.epochs == 5 and resumed.steps == 20


def test_resume_without_checkpoint_is_a_config_error(tmp_path):
    model, step_loss, batches, validate = _problem()
    with pytest.raises(ConfigError, match="no checkpoint"):
        fit(model, step_loss, batches, validate, LoopConfig(run_dir=tmp_path, resume=True, progress=False))


def test_a_tie_on_the_monitor_goes_to_the_lower_loss(tmp_path):
    config = LoopConfig(run_dir=tmp_path)
    assert is_better({"score": 1.0, "loss": 0.1}, {"score": 1.0, "loss": 0.2}, config)
    assert not is_better({"score": 1.0, "loss": 0.3}, {"score": 1.0, "loss": 0.2}, config)
    assert is_better({"score": 0.9, "loss": 0.9}, {"score": float("-inf")}, config)
    assert not is_better({"score": 0.8, "loss": 0.0}, {"score": 0.9, "loss": 0.5}, config)
