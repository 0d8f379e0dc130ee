"""The project's own tests: shapes, a fast_dev_run fit, a short run, and the default config's target."""
import pytest

from {{ cookiecutter.package_name }}.datamodule import TextDataModule
from {{ cookiecutter.package_name }}.module import LanguageModule


def test_shapes(default_config):
    model = LanguageModule(**default_config["model"])
    data = TextDataModule(**default_config["data"])
    data.setup("fit")
    x, y = next(iter(data.train_dataloader()))
    assert x.shape == y.shape == (data.hparams.batch_size, data.hparams.block_size)
    assert (x[:, 1:] == y[:, :-1]).all()  # the target is the input shifted by one
    assert model(x).shape == (*x.shape, 256)
    assert len(model.generate("We hold", max_new_chars=5)) >= len("We hold")


def test_fast_dev_run(cli):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished


def test_short_run_writes_checkpoint_metrics_and_samples(cli, tmp_path):
    run = cli("fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.limit_val_batches=2")
    assert "val_ppl" in run.trainer.callback_metrics
    assert list(tmp_path.rglob("*.ckpt")), "no checkpoint written"
    (samples,) = tmp_path.rglob("samples/epoch=000.txt")
    assert [line.split(" ")[0] for line in samples.read_text().split("\n")[:-1]] == ["The", "We", "He"]


def test_reads_your_text_file(cli, tmp_path):
    (tmp_path / "poem.txt").write_text("the quick brown fox jumps over the lazy dog. " * 60)
    run = cli("fit", "--trainer.fast_dev_run=true", f"--data.data_path={tmp_path / 'poem.txt'}")
    assert bytes(run.datamodule.train_data[:9].tolist()) == b"the quick"


@pytest.mark.parametrize("content, message", [(None, "no such file"), (b"", "the file is empty"),
                                              (bytes(range(256)) * 4, "does not look like plain text")])
def test_bad_text_file_fails_before_training_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "data.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        TextDataModule(data_path=str(path)).setup("fit")


@pytest.mark.slow
def test_default_config_reaches_target(cli):
    run = cli("fit")
    unigram = run.datamodule.unigram_perplexity()
    val_ppl = float(run.trainer.callback_metrics["val_ppl"])
    assert val_ppl <= unigram / 2, f"val_ppl {val_ppl:.2f} > half the unigram model's {unigram:.2f}"
