"""Sequence to sequence learning for performing number addition, on rnnkit.

Follows Keras's example "Sequence to sequence learning for performing number addition"
(keras.io/examples/nlp/addition_rnn): the question "535+61 " is read as one-hot characters by an
LSTM encoder, its last state is repeated once per answer character (RepeatVector) and an LSTM
decoder with a TimeDistributed Dense softmax writes the answer "596 ". As in Keras's example the
question is reversed ("16+535"), which shortens the paths between the digits that are added.

Data: generated here, as in Keras's example: pairs of random numbers of up to `--digits` digits,
each question asked once. Only the imports differ from a Keras program.

Run: python examples/addition_seq2seq.py [--samples 20000 --epochs 12 --digits 3]
"""

import argparse

import numpy as np

import rnnkit as keras
from rnnkit import layers


class CharacterTable:
    """One-hot encoding of a fixed set of characters, and back."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = {c: i for i, c in enumerate(self.chars)}
        self.indices_char = dict(enumerate(self.chars))

    def encode(self, text, num_rows):
        x = np.zeros((num_rows, len(self.chars)), dtype="float32")
        for i, c in enumerate(text):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[int(i)] for i in x)


def generate_questions(samples, digits, rng):
    """`samples` distinct questions "a+b" padded to 2*digits+1 characters, with answers."""
    maxlen = digits + 1 + digits
    questions, expected, seen = [], [], set()
    while len(questions) < samples:
        a, b = (int("".join(rng.choice(list("0123456789"), size=rng.integers(1, digits + 1))))
                for _ in range(2))
        key = tuple(sorted((a, b)))  # a+b and b+a are the same question
        if key in seen:
            continue
        seen.add(key)
        query = f"{a}+{b}".ljust(maxlen)
        questions.append(query[::-1])  # reversed, as in Keras's example
        expected.append(str(a + b).ljust(digits + 1))
    return questions, expected


def build_model(num_chars, maxlen, digits, hidden=128, num_layers=1):
    model = keras.Sequential()
    model.add(layers.Input((maxlen, num_chars)))
    model.add(layers.LSTM(hidden))                  # the encoder
    model.add(layers.RepeatVector(digits + 1))      # its summary, once per answer character
    for _ in range(num_layers):
        model.add(layers.LSTM(hidden, return_sequences=True))
    model.add(layers.TimeDistributed(layers.Dense(num_chars, activation="softmax")))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000, help="distinct questions")
    parser.add_argument("--digits", type=int, default=3, help="digits of each number")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128, help="LSTM units")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--verbose", type=int, default=2, help="fit's verbosity")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains the adder; returns its history, validation accuracy per character and per answer."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    maxlen = 2 * args.digits + 1
    ctable = CharacterTable("0123456789+ ")
    questions, expected = generate_questions(args.samples, args.digits, rng)
    print("Total questions:", len(questions))

    x = np.stack([ctable.encode(q, maxlen) for q in questions])
    y = np.stack([ctable.encode(a, args.digits + 1) for a in expected])
    split = len(x) - len(x) // 10  # the last tenth is held out
    (x_train, x_val), (y_train, y_val) = (x[:split], x[split:]), (y[:split], y[split:])
    print("Training data:", x_train.shape, y_train.shape)

    model = build_model(len(ctable.chars), maxlen, args.digits, args.hidden)
    model.summary()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_val, y_val), verbose=args.verbose)

    guesses = model.predict(x_val, verbose=0).argmax(axis=-1)
    exact = float(np.mean(np.all(guesses == y_val.argmax(axis=-1), axis=1)))
    for i in range(min(10, len(x_val))):
        q, correct, guess = (ctable.decode(x_val[i]), ctable.decode(y_val[i]),
                             ctable.decode(guesses[i], calc_argmax=False))
        mark = "☑" if correct == guess else "☒"
        print("Q", q[::-1], "T", correct, mark, guess)
    char_accuracy = history.history["val_accuracy"][-1]
    print(f"Validation accuracy: {char_accuracy:.3f} per character, {exact:.3f} per answer")
    return {"history": history.history, "val_char_accuracy": char_accuracy,
            "val_exact_accuracy": exact}


if __name__ == "__main__":
    main()
