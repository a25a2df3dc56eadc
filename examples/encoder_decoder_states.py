"""Character-level sequence-to-sequence translation with encoder states, on rnnkit.

Follows Keras's example "Character-level recurrent sequence-to-sequence model"
(keras.io/examples/nlp/lstm_seq2seq): an LSTM encoder reads the source characters and hands its
final states `[h, c]` to an LSTM decoder as `initial_state`; the decoder is trained with teacher
forcing (it reads the target shifted by one step, from a start character "\\t"). The trained model
is saved and loaded back, and two inference models are built from its layers, as in Keras's
example: an encoder model (source -> states) and a decoder model (one character + states -> next
character + states), run greedily until the end character "\\n".

Data: generated here instead of Keras's English-French sentence pairs: numbers written with
digits, translated into English words ("472" -> "four hundred seventy-two").

Run: python examples/encoder_decoder_states.py [--epochs 60 --digits 3 --latent-dim 256]
"""

import argparse
import os
import tempfile

import numpy as np

import rnnkit as keras

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
       "fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_to_words(n):
    """English words for 0 <= n < 10**6 ("472" -> "four hundred seventy-two")."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else "-" + ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_to_words(n % 100)
        return ONES[n // 100] + " hundred" + rest
    rest = "" if n % 1000 == 0 else " " + number_to_words(n % 1000)
    return number_to_words(n // 1000) + " thousand" + rest


def one_hot_texts(texts, token_index, maxlen, pad=" ", shift=0):
    """(len(texts), maxlen, tokens) one-hot, padded with `pad`; `shift` drops leading chars."""
    data = np.zeros((len(texts), maxlen, len(token_index)), dtype="float32")
    for i, text in enumerate(texts):
        text = text[shift:]
        for t, char in enumerate(text):
            data[i, t, token_index[char]] = 1.0
        data[i, len(text):, token_index[pad]] = 1.0
    return data


def build_training_model(num_encoder_tokens, num_decoder_tokens, latent_dim):
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]  # only the states go on; the outputs are dropped

    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def build_inference_models(model, latent_dim):
    """The encoder and one-step decoder models, from the layers of a (loaded) training model."""
    encoder_inputs = model.input[0]
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm
    encoder_model = keras.Model(encoder_inputs, [state_h_enc, state_c_enc])

    decoder_inputs = model.input[1]
    decoder_states_inputs = [keras.Input(shape=(latent_dim,)), keras.Input(shape=(latent_dim,))]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs)
    decoder_outputs = model.layers[4](decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs,
                                [decoder_outputs, state_h_dec, state_c_dec])
    return encoder_model, decoder_model


def decode_sequence(input_seq, encoder_model, decoder_model, target_token_index, max_len):
    """Greedy decoding of one source sequence (batch of one)."""
    reverse_index = {i: char for char, i in target_token_index.items()}
    states_value = encoder_model.predict(input_seq, verbose=0)
    target_seq = np.zeros((1, 1, len(target_token_index)), dtype="float32")
    target_seq[0, 0, target_token_index["\t"]] = 1.0
    decoded = ""
    while True:
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
        sampled_char = reverse_index[int(np.argmax(output_tokens[0, -1, :]))]
        if sampled_char == "\n" or len(decoded) >= max_len:
            return decoded
        decoded += sampled_char
        target_seq = np.zeros((1, 1, len(target_token_index)), dtype="float32")
        target_seq[0, 0, target_token_index[sampled_char]] = 1.0
        states_value = [h, c]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=3, help="numbers below 10**digits")
    parser.add_argument("--samples", type=int, default=0, help="pairs (0: every number)")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=256)
    parser.add_argument("--decode", type=int, default=100, help="held-out numbers to decode")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", type=int, default=2, help="fit's verbosity")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains, saves, reloads and decodes; returns the history and held-out exact-match rate."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    numbers = rng.permutation(10 ** args.digits)[:args.samples or None]
    input_texts = [str(n) for n in numbers]
    target_texts = ["\t" + number_to_words(n) + "\n" for n in numbers]
    input_index = {c: i for i, c in enumerate(sorted(set("".join(input_texts)) | {" "}))}
    target_index = {c: i for i, c in enumerate(sorted(set("".join(target_texts)) | {" "}))}
    max_encoder_len = max(map(len, input_texts))
    max_decoder_len = max(map(len, target_texts))
    print("Number of samples:", len(input_texts))
    print("Tokens:", len(input_index), "in,", len(target_index), "out; longest target:",
          max_decoder_len)

    encoder_input_data = one_hot_texts(input_texts, input_index, max_encoder_len)
    decoder_input_data = one_hot_texts(target_texts, target_index, max_decoder_len)
    # The target is the decoder's input one step ahead: no start character.
    decoder_target_data = one_hot_texts(target_texts, target_index, max_decoder_len, shift=1)

    model = build_training_model(len(input_index), len(target_index), args.latent_dim)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
                        batch_size=args.batch_size, epochs=args.epochs, validation_split=0.2,
                        verbose=args.verbose)

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "s2s_model.keras")
        model.save(path)
        model = keras.models.load_model(path)
    encoder_model, decoder_model = build_inference_models(model, args.latent_dim)

    # validation_split holds out the last 20 %: decode numbers the model never trained on.
    first_val = int(len(input_texts) * 0.8)
    held_out = range(first_val, min(len(input_texts), first_val + args.decode))
    correct = 0
    for k, i in enumerate(held_out):
        decoded = decode_sequence(encoder_input_data[i:i + 1], encoder_model, decoder_model,
                                  target_index, max_decoder_len)
        correct += decoded == target_texts[i].strip()
        if k < 8:
            print(f"{input_texts[i]:>6} -> {decoded!r} (expected {target_texts[i].strip()!r})")
    exact = correct / max(len(held_out), 1)
    print(f"Held-out numbers translated exactly: {exact:.3f} ({correct}/{len(held_out)})")
    return {"history": history.history, "held_out_exact": exact, "decoded": len(held_out)}


if __name__ == "__main__":
    main()
