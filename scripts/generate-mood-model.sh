#!/usr/bin/env bash
# Writes Sources/SupportBotCore/Mood/MoodModelWeights.swift: the mood model trained on MoodTrainingData.swift.
# Run from the repository root after changing the training data (scripts/generate-mood-training-data.py) or how the
# model trains. MoodModelTests fails until the weights match a fresh training.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product supportbot
"$(swift build --show-bin-path)/supportbot" mood --write-model Sources/SupportBotCore/Mood/MoodModelWeights.swift
echo "Wrote Sources/SupportBotCore/Mood/MoodModelWeights.swift"
