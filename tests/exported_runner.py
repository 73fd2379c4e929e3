# Copyright 2026 The CascadeNet Authors. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Run exported models with nothing but TensorFlow and numpy, as a deployment site would: the
other stack's interpreter runs this in the cross-stack tests (CASCADENET_OTHER_PYTHON).

  python exported_runner.py JOBS.json

JOBS.json: a list of [kind, model path, inputs .npz (feature, mask), output .npy]; kind is
'pb' (frozen GraphDef, tf.compat.v1), 'saved_model_v1' (tf.compat.v1.saved_model.loader)
or 'saved_model_v2' (tf.saved_model.load; TensorFlow 2 only). Python 3.7 syntax: it runs on
TensorFlow 1.15 too.
"""
import json
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

v1 = tf.compat.v1


def run_pb(path, feature, mask):
    graph_def = v1.GraphDef()
    with open(path, 'rb') as f:
        graph_def.ParseFromString(f.read())
    graph = v1.Graph()
    with graph.as_default():
        v1.import_graph_def(graph_def, name='')
    with v1.Session(graph=graph) as sess:
        return sess.run('predTst:0', {'feature:0': feature, 'mask:0': mask})


def run_saved_model_v1(path, feature, mask):
    graph = v1.Graph()
    with v1.Session(graph=graph) as sess:
        meta = v1.saved_model.loader.load(sess, ['serve'], path)
        sig = meta.signature_def['serving_default']
        return sess.run(sig.outputs['predTst'].name, {sig.inputs['feature'].name: feature,
                                                      sig.inputs['mask'].name: mask})


def run_saved_model_v2(path, feature, mask):
    fn = tf.saved_model.load(path).signatures['serving_default']
    return fn(feature=tf.constant(feature), mask=tf.constant(mask))['predTst'].numpy()


RUNNERS = {'pb': run_pb, 'saved_model_v1': run_saved_model_v1,
           'saved_model_v2': run_saved_model_v2}


def main(jobs_path):
    with open(jobs_path) as f:
        jobs = json.load(f)
    for kind, path, inputs, output in jobs:
        data = np.load(inputs)
        np.save(output, RUNNERS[kind](path, data['feature'], data['mask']))
    print('ran %d models on TensorFlow %s' % (len(jobs), tf.__version__))


if __name__ == '__main__':
    main(sys.argv[1])
