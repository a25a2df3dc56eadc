"""Character-level text generation with an LSTM, on rnnkit.

Follows Keras's example "Character-level text generation with LSTM"
(keras.io/examples/generative/lstm_character_level_text_generation): windows of `maxlen`
characters, one-hot encoded, teach an LSTM with a softmax to predict the next character; text
is then generated one character at a time, sampling the softmax at several temperatures
("diversity"). Only the imports differ from a Keras program.

Data: examples/data/river_notes.txt, a short text written for these examples (public domain),
instead of the Nietzsche corpus Keras downloads. The result printed besides the samples: the
final loss against the entropy of the characters' frequencies (what a model that ignores the
context would reach), and how many generated words are words of the text.

Run: python examples/char_text_generation.py [--epochs 40 --step 1 --generate 300]
"""

import argparse
import os
import re

import numpy as np

import rnnkit as keras
from rnnkit import layers

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "river_notes.txt")


def vectorize(text, chars, maxlen, step):
    """One-hot windows `x` (windows, maxlen, chars) and their next characters `y`."""
    char_indices = {c: i for i, c in enumerate(chars)}
    sentences = [text[i:i + maxlen] for i in range(0, len(text) - maxlen, step)]
    next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
    y = np.zeros((len(sentences), len(chars)), dtype="bool")
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1
    return x, y


def sample(preds, temperature, rng):
    """An index drawn from the softmax `preds` re-weighted by `temperature`."""
    preds = np.log(np.asarray(preds).astype("float64") + 1e-12) / temperature
    exp_preds = np.exp(preds - preds.max())
    return int(rng.choice(len(exp_preds), p=exp_preds / exp_preds.sum()))


def generate(model, seed_text, chars, length, temperature, rng):
    char_indices = {c: i for i, c in enumerate(chars)}
    sentence, generated = seed_text, ""
    for _ in range(length):
        x_pred = np.zeros((1, len(sentence), len(chars)), dtype="float32")
        for t, char in enumerate(sentence):
            x_pred[0, t, char_indices[char]] = 1.0
        preds = model.predict(x_pred, verbose=0)[0]
        next_char = chars[sample(preds, temperature, rng)]
        sentence = sentence[1:] + next_char
        generated += next_char
    return generated


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default=TEXT, help="a plain-text file to learn")
    parser.add_argument("--maxlen", type=int, default=40, help="characters of context")
    parser.add_argument("--step", type=int, default=1, help="stride between windows")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--generate", type=int, default=300, help="characters per sample")
    parser.add_argument("--sample-every", type=int, default=10, help="epochs between samples")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--verbose", type=int, default=2, help="fit's verbosity")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains and samples; returns the losses, the baseline and the generated texts."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    with open(args.text, encoding="utf-8") as f:
        text = " ".join(f.read().lower().split())
    chars = sorted(set(text))
    print("Corpus length:", len(text), "- total chars:", len(chars))
    x, y = vectorize(text, chars, args.maxlen, args.step)
    print("Number of sequences:", len(x))
    frequencies = np.unique(list(text), return_counts=True)[1] / len(text)
    unigram_entropy = float(-(frequencies * np.log(frequencies)).sum())

    model = keras.Sequential([keras.Input(shape=(args.maxlen, len(chars))),
                              layers.LSTM(args.units),
                              layers.Dense(len(chars), activation="softmax")])
    model.compile(loss="categorical_crossentropy",
                  optimizer=keras.optimizers.RMSprop(learning_rate=0.01))

    losses, samples = [], {}
    for epoch in range(args.epochs):
        history = model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=args.verbose)
        losses += history.history["loss"]
        if (epoch + 1) % args.sample_every and epoch + 1 < args.epochs:
            continue
        start = int(rng.integers(0, len(text) - args.maxlen))
        seed_text = text[start:start + args.maxlen]
        print(f"\nAfter epoch {epoch + 1}, generating with seed: {seed_text!r}")
        for diversity in (0.2, 0.5, 1.0, 1.2):
            samples[diversity] = generate(model, seed_text, chars, args.generate, diversity, rng)
            print(f"...Diversity: {diversity}\n...Generated: {samples[diversity]}")

    vocabulary = set(re.findall(r"[a-z]+", text))
    words = re.findall(r"[a-z]+", samples[0.2])
    known = sum(w in vocabulary for w in words) / max(len(words), 1)
    print(f"\nFinal loss {losses[-1]:.3f} nats/char; ignoring the context: "
          f"{unigram_entropy:.3f}. Words of the text among those generated at 0.2: {known:.2f}")
    return {"loss": losses, "unigram_entropy": unigram_entropy, "samples": samples,
            "known_word_fraction": known}


if __name__ == "__main__":
    main()
