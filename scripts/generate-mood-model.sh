#!/usr/bin/env bash
# Writes the learned mood models' weights into Sources/SupportBotData: MoodModelWeights.swift (the general model,
# trained on GoEmotions' and BANKING77's training splits in ../shared/datasets and on MoodTrainingData.swift) and
# MoodSupportModelWeights.swift (the support model, on MoodTrainingData.swift alone). Takes about 15 s after the build.
# Run from the repository root after changing the training data (scripts/generate-mood-training-data.py) or how the
# model trains. MoodModelWeightsTests fails until the weights are written again.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product supportbot
"$(swift build -c release --show-bin-path)/supportbot" mood --write-model Sources/SupportBotData \
    --general-data "${GENERAL_DATA:-../shared/datasets/goemotions/train.csv}" \
    --calm-data "${CALM_DATA:-../shared/datasets/banking77/train.csv}"
echo "Wrote Sources/SupportBotData/MoodModelWeights.swift and MoodSupportModelWeights.swift"
