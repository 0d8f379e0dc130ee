"""Strategy names and signatures as Lightning spells them."""
import runtime as pl
from runtime.demos import BoringModel
from runtime.strategies import DDPStrategy, FSDPStrategy, ParallelStrategy, SingleDeviceStrategy, Strategy
from runtime.strategies.strategy import Strategy as StrategyAtItsPath


def test_parallel_strategy_is_the_base_of_the_multi_process_ones():
    assert issubclass(DDPStrategy, ParallelStrategy) and issubclass(FSDPStrategy, ParallelStrategy)
    assert not issubclass(SingleDeviceStrategy, ParallelStrategy) and StrategyAtItsPath is Strategy
    ddp = pl.Trainer(strategy="ddp", devices=1, accelerator="cpu", logger=False).strategy
    assert isinstance(ddp, ParallelStrategy) and ddp.distributed_sampler_kwargs == {"num_replicas": 1, "rank": 0}


def test_connect_takes_the_model(tmp_path):
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False, max_steps=1, enable_progress_bar=False)
    model = BoringModel()
    trainer.strategy.connect(model)
    assert trainer.strategy.lightning_module is model
    trainer.fit(model)
    trainer.strategy.connect(other := BoringModel())  # attached to the trainer once it ran
    assert trainer.lightning_module is other and other.trainer is trainer
