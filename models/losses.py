"""The training objective: the data term and the regularisers added to it.

pred, label: (N, H, W, 2) float32 (real, imag), or (N, T, H, W, 2) for a dynamic model.
"""
import tensorflow.compat.v1 as tf


def mse(pred, label):
    """Mean squared error over every element of both channels (the paper's MSE loss)."""
    return tf.reduce_mean(tf.square(pred - label))


def training_loss(pred, label, cfg):
    """The scalar loss train.py minimises for the run configuration `cfg`, named 'loss'."""
    return tf.identity(mse(pred, label), name='loss')
