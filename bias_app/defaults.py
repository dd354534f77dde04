"""Default `bias_config` values (SPEC §2, reference ingestion-and-bias §10).

Seeded into the table by migration; the config accessor merges them under the stored row so a key
missing from the row still has a value. Multipliers are plain JSON numbers (config, not money).
"""

BIAS_CONFIG_DEFAULTS: dict[str, dict] = {
    "gating": {
        "macroSuppressLongClasses": ["MACRO_BREAKDOWN_CONFIRMED", "MACRO_TREND_DOWN"],
        "macroSuppressShortClasses": ["MACRO_TREND_UP"],
        "breakoutLowSpacePenalty": 0.25,
        "reclaimBoost": 0.08,
        "chopSuppressionThreshold": 75,
        "regimeTransitionBoost": 0.05,
        "macroConflictRiskMultiplier": 0.6,
    },
    "staleness": {
        "behavior": "block",
        "riskMultiplier": 0.7,
        "rthThresholdMinutes": 10,
        "dailyThresholdMinutes": 60,
    },
    "risk": {
        "macroBreakdownLongMultiplier": 0.5,
        "macroTrendUpLongMultiplier": 1.15,
        "macroTrendDownShortMultiplier": 0.5,
        "rangeBreakoutMultiplier": 0.7,
        "trendAlignmentMultiplier": 1.1,
        "stateStrengthUpMultiplier": 1.1,
        "stateStrengthDownMultiplier": 0.8,
        "macroDriftHighMultiplier": 0.85,
        "latePhaseNegativeMultiplier": 0.75,
    },
    "adaptive": {
        "macroDriftThreshold": 0.18,
        "enabled": True,
    },
}
