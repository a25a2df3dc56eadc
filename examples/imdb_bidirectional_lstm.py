"""Bidirectional LSTM sentiment classifier on IMDB-style reviews, on rnnkit.

Follows Keras's example "Bidirectional LSTM on IMDB" (keras.io/examples/nlp/bidirectional_lstm_imdb):
word ids padded to `maxlen` with `pad_sequences`, an Embedding, two stacked Bidirectional LSTMs and
a sigmoid unit, trained with Adam on binary cross-entropy (Functional API, as in Keras's example).

Data: `rnnkit.datasets.imdb.load_data`, which reads Keras's cache file `imdb.npz` (in
`~/.keras/datasets/` or `$KERAS_HOME/datasets/`) and never downloads. Where that file is missing
(or with `--synthetic`), a generated corpus takes its place: reviews made of sentences such as
"the acting was not very good", each praising or panning, with negation flipping a sentence's
sense; the label is the majority of the sentences. The program prints which data it used.

Run: python examples/imdb_bidirectional_lstm.py [--epochs 3 --samples 5000 --synthetic]
"""

import argparse

import numpy as np

import rnnkit as keras
from rnnkit import layers
from rnnkit.datasets import imdb

POSITIVE = "good great excellent wonderful superb brilliant enjoyable moving delightful fun".split()
NEGATIVE = "bad awful terrible boring dull poor weak painful mediocre annoying".split()
SUBJECTS = "movie film plot acting story cast script ending music direction dialogue".split()
ADVERBS = ["", "", "very", "really", "quite", "truly", "rather"]
OPENERS = ["", "", "honestly", "overall", "i think", "in the end", "to be fair"]


def synthetic_sentence(rng, polarity):
    """One sentence of the given sense (+1 praise, -1 pan); half of them negate their adjective."""
    negated = rng.random() < 0.5
    words = POSITIVE if (polarity > 0) != negated else NEGATIVE
    parts = [rng.choice(OPENERS), "the", rng.choice(SUBJECTS), rng.choice(["was", "is"]),
             "not" if negated else "", rng.choice(ADVERBS), rng.choice(words)]
    return " ".join(p for p in parts if p).split()


def synthetic_reviews(samples, rng, index_from=3, start_char=1):
    """Reviews as lists of word ids (ids by frequency from `index_from`, as imdb.load_data
    gives them) and their labels."""
    texts, labels = [], []
    for _ in range(samples):
        leaning = rng.choice([-1, 1])
        senses = np.where(rng.random(rng.choice([3, 5, 7])) < 0.75, leaning, -leaning)
        texts.append([w for sense in senses for w in synthetic_sentence(rng, sense) + ["."]])
        labels.append(int(senses.sum() > 0))
    words, counts = np.unique([w for text in texts for w in text], return_counts=True)
    rank = {w: r + index_from for r, w in enumerate(words[np.argsort(-counts, kind="stable")])}
    ids = [[start_char] + [rank[w] for w in text] for text in texts]
    return ids, np.array(labels, dtype="int64")


def load_reviews(args):
    """Keras's IMDB from its cache when present, else the synthetic corpus; which it was, and
    the vocabulary size."""
    if not args.synthetic:
        try:
            (x_train, y_train), (x_val, y_val) = imdb.load_data(num_words=args.max_features)
            n = args.samples or None
            return (x_train[:n], y_train[:n]), (x_val[:n], y_val[:n]), "imdb", args.max_features
        except FileNotFoundError as error:
            print(f"Keras's IMDB file is missing ({str(error).split('. ')[0]}): "
                  f"using a synthetic corpus")
    rng = np.random.default_rng(args.seed)
    ids, labels = synthetic_reviews(2 * (args.samples or 5000), rng)
    half = len(ids) // 2
    # A vocabulary of ~80 words needs no 20,000-row embedding.
    num_words = min(args.max_features, max(max(text) for text in ids) + 1)
    return (ids[:half], labels[:half]), (ids[half:], labels[half:]), "synthetic", num_words


def build_model(max_features, units=64, embed_dim=128):
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, embed_dim)(inputs)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(units))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-features", type=int, default=20000, help="vocabulary size")
    parser.add_argument("--maxlen", type=int, default=200, help="words kept per review")
    parser.add_argument("--samples", type=int, default=5000,
                        help="training (and validation) reviews; 0: all of IMDB")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--units", type=int, default=64, help="LSTM units per direction")
    parser.add_argument("--synthetic", action="store_true", help="skip Keras's IMDB cache")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--verbose", type=int, default=2, help="fit's verbosity")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains the classifier; returns the data used, its history and validation accuracy."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_val, y_val), source, num_words = load_reviews(args)
    print(f"Data: {source}; {len(x_train)} training and {len(x_val)} validation sequences")
    x_train = keras.utils.pad_sequences(x_train, maxlen=args.maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=args.maxlen)

    model = build_model(num_words, args.units)
    model.summary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_val, y_val), verbose=args.verbose)
    loss, accuracy = model.evaluate(x_val, y_val, batch_size=args.batch_size, verbose=0)
    majority = max(np.mean(y_val), 1 - np.mean(y_val))
    print(f"Validation accuracy: {accuracy:.3f} (majority class: {majority:.3f})")
    return {"source": source, "history": history.history, "val_accuracy": accuracy,
            "val_loss": loss, "majority": float(majority)}


if __name__ == "__main__":
    main()
