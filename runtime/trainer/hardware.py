"""Which accelerator, strategy and precision a Trainer runs on: names and objects to one connected strategy."""
from typing import Any

from runtime.accelerators import select_accelerator
from runtime.checkpoint.plugins import CheckpointIO
from runtime.precision import select_precision
from runtime.strategies import SingleDeviceStrategy, Strategy
from runtime.trainer.flags import as_list, check_int
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice

# name -> (launch start method, find_unused_parameters); "auto" picks single_device or ddp
_DDP_STRATEGIES = {
    "ddp": ("popen", False), "ddp_find_unused_parameters_true": ("popen", True),
    "ddp_spawn": ("spawn", False), "ddp_spawn_find_unused_parameters_true": ("spawn", True),
    "ddp_fork": ("fork", False), "ddp_notebook": ("fork", False),
}
# Lightning's DeepSpeed names (runtime.strategies.deepspeed.STRATEGY_NAMES says what each sets)
_DEEPSPEED_STRATEGIES = ("deepspeed", "deepspeed_stage_1", "deepspeed_stage_2", "deepspeed_stage_2_offload",
                         "deepspeed_stage_3", "deepspeed_stage_3_offload", "deepspeed_stage_3_offload_nvme")
STRATEGIES = ("auto", "single_device", *_DDP_STRATEGIES, "fsdp", *_DEEPSPEED_STRATEGIES)


def connect(accelerator: Any, strategy: Any, devices: Any, num_nodes: int, precision: Any, plugins: Any):
    """``(accelerator, strategy, device_ids)``: the strategy connected to the hardware, precision and plugins."""
    accelerator = select_accelerator(accelerator)
    device_ids = accelerator.parse_devices(devices)
    check_int("num_nodes", num_nodes, minimum=1)
    plugin = select_precision("32-true" if precision is None else precision, accelerator.device_type)
    if isinstance(strategy, Strategy):
        own = strategy.precision_plugin
        if strategy.precision_given and precision is not None and own.name != plugin.name:
            raise MisconfigurationException(
                f"precision={precision!r}, but the strategy passed in brings its own precision plugin ({own.name}); "
                "set precision in one place only."
            )
    else:
        strategy = select_strategy(strategy, device_ids, num_nodes)
    strategy.connect_hardware(accelerator, device_ids, num_nodes, plugin)  # the hardware, precision and launcher
    for given in as_list(plugins):
        if isinstance(given, CheckpointIO):
            strategy.checkpoint_io = given
        else:
            raise MisconfigurationException(
                f"plugins: {type(given).__name__} is not supported; pass checkpoint IO plugins such as "
                "`runtime.plugins.AsyncCheckpointIO()` (precision is chosen with `precision=`)."
            )
    return accelerator, strategy, device_ids


def select_strategy(name: Any, device_ids: list[int], num_nodes: int) -> Strategy:
    """The strategy a name stands for; ``Strategy.connect`` then gives it the Trainer's hardware."""
    from runtime.strategies.environments import select_environment

    if name in _DEEPSPEED_STRATEGIES:  # "deepspeed", "deepspeed_stage_2_offload", ...: deepspeed imported at setup
        from runtime.strategies.deepspeed import STRATEGY_NAMES, DeepSpeedStrategy

        return DeepSpeedStrategy(cluster_environment=select_environment(len(device_ids), num_nodes), **STRATEGY_NAMES[name])
    if name not in STRATEGIES:
        raise MisconfigurationException(invalid_choice("strategy", name, STRATEGIES))
    environment = select_environment(len(device_ids), num_nodes)
    external_world = environment.world_size() if environment.creates_processes_externally else 1
    if name == "single_device" or (name == "auto" and len(device_ids) * num_nodes == 1 and external_world == 1):
        return SingleDeviceStrategy(device=None)
    if name == "fsdp":
        from runtime.strategies.fsdp import FSDPStrategy

        return FSDPStrategy(cluster_environment=environment)
    from runtime.strategies.ddp import DDPStrategy

    start_method, find_unused = _DDP_STRATEGIES.get(name, ("popen", False))
    return DDPStrategy(cluster_environment=environment, start_method=start_method, find_unused_parameters=find_unused)
