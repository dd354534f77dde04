"""Engine B's agents (reference orchestrator §5.9): pure functions from a DecisionInput to a vote.

An agent returns None when it does not apply or has no real input, so the stored votes show only
evidence that existed (SPEC §6: omitted rather than faked). `engine_b` decides which agents run.
"""
