#!/usr/bin/env python3
"""Writes Sources/SupportBotData/WordRelationsData.swift: English words that mean the same or nearly, from
WordNet 3.0 (Princeton licence, copied into the file's header).

For each single word (letters only, 3 or more), the words it shares a sense with (synonyms) and the forms derived
from it ("deliver" -> "delivery"). Each pair has a weight from 0.25 to 1: how common the shared sense is for both
words (1 for each word's most common sense, from WordNet's sense tag counts; without counts, 1 / the sense's rank),
times 0.9 for a derived form. WordNet's "similar to" links between adjectives are left out: they tie "good" to
"smashing" and "cracking". Rare words (a Zipf frequency
under 2.5 in wordfreq's English list, that is under about 3 in a million words) are left out: wordfreq only
chooses which WordNet words to keep; none of its data is in the output.

Run from the repository root (the server and the build never need either):
    apt-get install -y wordnet-base && pip install wordfreq==3.1.1
    python3 scripts/generate-word-relations.py
"""
import collections
import os
import re

from wordfreq import zipf_frequency

WORDNET = "/usr/share/wordnet"
OUT = "Sources/SupportBotData/WordRelationsData.swift"
MIN_WEIGHT = 0.25
MIN_ZIPF = 2.5
RELATED_FACTOR = 0.9
FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
WORD = re.compile(r"^[a-z]{3,}$")


def pos_of(tag):
    return "a" if tag == "s" else tag


def entries(kind):
    """(pos, line) for each entry of WordNet's data.* or index.* files; the licence lines at the top start with
    spaces."""
    for pos, name in FILES.items():
        with open(os.path.join(WORDNET, kind + "." + name), encoding="latin-1") as f:
            for line in f:
                if not line.startswith(" "):
                    yield pos, line


def read_synsets():
    """(pos, offset) -> (words, pointers); a pointer is (symbol, offset, pos, source/target)."""
    synsets = {}
    for pos, line in entries("data"):
        fields = line.partition("|")[0].split()
        count = int(fields[3], 16)
        words = [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count)]
        i = 4 + 2 * count
        pointers = []
        for _ in range(int(fields[i])):
            pointers.append((fields[i + 1], fields[i + 2], pos_of(fields[i + 3]), fields[i + 4]))
            i += 4
        synsets[(pos, fields[0])] = (words, pointers)
    return synsets


def read_senses():
    """(lemma, pos) -> synset offsets, most common sense first."""
    senses = {}
    for pos, line in entries("index"):
        fields = line.split()
        pointer_count = int(fields[3])
        senses[(fields[0], pos)] = fields[4 + pointer_count + 2:]
    return senses


def read_tag_counts():
    """(lemma, pos, sense number) -> how often that sense was tagged in WordNet's corpora."""
    counts = collections.Counter()
    with open(os.path.join(WORDNET, "cntlist.rev"), encoding="latin-1") as f:
        for line in f:
            key, number, count = line.split()
            lemma, rest = key.split("%")
            pos = {1: "n", 2: "v", 3: "a", 4: "r", 5: "a"}[int(rest.split(":")[0])]
            counts[(lemma, pos, int(number))] += int(count)
    return counts


def main():
    synsets, senses, tags = read_synsets(), read_senses(), read_tag_counts()
    zipf = {}

    def common(word):
        if word not in zipf:
            zipf[word] = zipf_frequency(word, "en")
        return zipf[word] >= MIN_ZIPF

    # How common each of a word's senses is, next to its most common one.
    prominence = {}
    for (lemma, pos), offsets in senses.items():
        if not WORD.match(lemma):
            continue
        counts = [tags[(lemma, pos, i + 1)] for i in range(len(offsets))]
        top = max(counts, default=0)
        for i, offset in enumerate(offsets):
            prominence[(lemma, pos, offset)] = (counts[i] + 0.5) / (top + 0.5) if top > 0 else 1 / (i + 1)

    pairs, kinds = {}, {}

    def add(a, b, weight, kind):
        if a == b or weight < MIN_WEIGHT or not common(a) or not common(b):
            return
        if weight > pairs.get((a, b), 0):
            pairs[(a, b)], kinds[(a, b)] = weight, kind

    for (pos, offset), (words, pointers) in synsets.items():
        for a in (w for w in words if WORD.match(w)):
            pa = prominence.get((a, pos, offset))
            if pa is None:
                continue
            for b in (w for w in words if WORD.match(w)):
                pb = prominence.get((b, pos, offset))
                if pb is not None:
                    add(a, b, min(pa, pb), "s")
            for symbol, target, target_pos, ends in pointers:
                if symbol != "+":
                    continue
                target_words = synsets[(target_pos, target)][0]
                if ends == "0000":
                    targets = target_words
                elif words[int(ends[:2], 16) - 1] == a:
                    targets = [target_words[int(ends[2:], 16) - 1]]
                else:
                    continue
                for b in (w for w in targets if WORD.match(w)):
                    pb = prominence.get((b, target_pos, target))
                    if pb is not None:
                        add(a, b, min(pa, pb) * RELATED_FACTOR, "d")

    by_word = collections.defaultdict(list)
    for (a, b), weight in pairs.items():
        by_word[a].append((b, weight, kinds[(a, b)]))
    licence = open("/usr/share/doc/wordnet-base/copyright", encoding="utf-8").read()
    licence = licence.split("License: WordNet3.0\n", 1)[1].split("\n\nFiles:", 1)[0]
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("// Generated by scripts/generate-word-relations.py from WordNet 3.0. Do not edit.\n//\n")
        f.write("// WordNet's licence:\n//\n")
        for line in licence.split("\n"):
            line = line.strip()
            f.write(("// " + ("" if line == "." else line)).rstrip() + "\n")
        f.write("\n/// English words that mean the same or nearly, one word per line: the word, then each related word\n")
        f.write("/// with its weight in hundredths and its kind (s: synonym, d: derived form). The most common words come first.\n")
        f.write("public enum WordRelationsData {\n    public static let table = \"\"\"\n")
        # The most common words first: of the words that share a stem ("account", "accountant"), the program keeps
        # the relations of the first only.
        for word in sorted(by_word, key=lambda w: (-zipf[w], w)):
            related = sorted(by_word[word], key=lambda r: (-r[1], r[0]))
            f.write("        " + word + " " + " ".join(f"{b} {round(w * 100)}{k}" for b, w, k in related) + "\n")
        f.write("        \"\"\"\n}\n")
    print(f"wrote {len(by_word)} words and {len(pairs)} relations to {OUT}")


if __name__ == "__main__":
    main()
