"""TensorFlow 1 API on TF 1.15 and TF 2.x alike, imported on demand.

Entry scripts check their inputs before calling `tf_v1()`, so a bad flag or file is reported
in one line without TensorFlow's start-up messages.
"""
import os


def tf_v1():
    """tensorflow.compat.v1 in graph mode, with TensorFlow's own logging quietened."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import tensorflow.compat.v1 as tf
    tf.logging.set_verbosity(tf.logging.ERROR)
    tf.disable_v2_behavior()
    return tf
