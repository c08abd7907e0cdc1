"""The one TOML config: typed sections (`sections`), the checker (`schema`) and loading (`load`)."""

from appliance.config.load import (
                                   apply_overrides,
                                   check_cross_fields,
                                   dump_toml,
                                   load_config,
                                   settings_equal,
                                   settings_from_table,
)
from appliance.config.sections import (
                                   EffectSettings,
                                   GpioSettings,
                                   LoggingSettings,
                                   ModelSettings,
                                   ModeSettings,
                                   OscSettings,
                                   OutputSettings,
                                   PoseSettings,
                                   ReactionSettings,
                                   RunSettings,
                                   Settings,
                                   SourceSettings,
)

__all__ = ["EffectSettings", "GpioSettings", "LoggingSettings", "ModeSettings", "ModelSettings",
           "OscSettings", "OutputSettings", "PoseSettings", "ReactionSettings", "RunSettings",
           "Settings", "SourceSettings", "apply_overrides", "check_cross_fields", "dump_toml",
           "load_config", "settings_equal", "settings_from_table"]
