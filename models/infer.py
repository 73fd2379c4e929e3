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
"""Reconstructing undersampled acquisitions that have no reference (infer.py): a model from a
checkpoint folder or a frozen .pb, the files read batch by batch (models/data/acquired.py), and
the reconstruction written as it comes, in the fastMRI submission layout (HDF5), NIfTI and PNG.

Scaling: the networks were trained on images of a known scale (max |label| = 1; the port's
preset on 0-255). `stored` feeds the zero-filled image as the file holds it (our HDF5 files,
which make_h5data.py writes on that scale: then the result is test.py's); `zf_max` divides each
item by max |zero-filled| / peak and multiplies the reconstruction back, for data in scanner
units (fastMRI); `auto` takes the reader's default (stored for ours, zf_max for fastMRI).
"""
import os
import time

import numpy as np

from models import config as cfgmod
from models.data import acquired, coils
from models.data.recon_files import Writers
from models.errors import InputError
from models.pre_input import to_complex, to_two_channel

SCALES = ('auto', 'stored', 'zf_max')
FORMATS = ('h5', 'nifti', 'png')
H5_EXTENSIONS = ('.h5', '.hdf5')
MAT_EXTENSION = '.mat'  # CMRxRecon k-space (cine_sax.mat ...), not its *_mask.mat


def wanted(name):
    """Whether a file found in an input folder is read: HDF5, or a CMRxRecon .mat other than
    a mask file."""
    low = name.lower()
    return low.endswith(H5_EXTENSIONS) or (low.endswith(MAT_EXTENSION) and
                                           not low.endswith('_mask' + MAT_EXTENSION))


def rank_name(dynamic):
    return 'dynamic (N, T, H, W)' if dynamic else '2-D (N, H, W)'


def coil_name(c):
    return 'for %d coils' % c if c else 'single-coil'


def check_coils(acq, coils, model_name):
    """One InputError line unless the data's coil count is the model's (0: single-coil)."""
    if acq.coils == coils:
        return
    if not coils:
        raise InputError('%s: multi-coil data (%d coil%s) but %s is single-coil'
                         % (acq.path, acq.coils, 's' if acq.coils > 1 else '', model_name))
    if not acq.coils:
        raise InputError('%s: single-coil data but %s is %s (it needs kspace and coil_maps)'
                         % (acq.path, model_name, coil_name(coils)))
    raise InputError('%s: %d coils but %s is %s (its graph fixes the coil count; compress or '
                     'convert the data to %d coils)' % (acq.path, acq.coils, model_name,
                                                        coil_name(coils), coils))


class CheckpointModel(object):
    """The model of a training folder (config.json + checkpoint), built for the size of the
    data it is given (the convolutions and the DC layer take any size): `predict(feature
    (B, ..., 2), mask (B, ...))` -> (B, ..., 2). TensorFlow is imported by the models only, so
    infer.py checks its flags first."""
    batch = None

    def __init__(self, tf, cfg, ckpt, where):
        self.tf, self.cfg, self.ckpt, self.where = tf, cfg, ckpt, where
        self.is_dynamic = cfgmod.is_dynamic(cfg)
        self.coils = int(cfg.coils or 0)
        self.peak = 255.0 if cfg.label_scale == 'stored' else 1.0
        self.describe = '%s nf=%d from %s' % (cfg.name, cfg.nf, ckpt)
        self._shape, self.sess = None, None

    def check(self, acq):
        if acq.is_dynamic != self.is_dynamic:
            raise InputError('%s: %s data but the model in %s is %s' % (
                acq.path, rank_name(acq.is_dynamic), self.where, rank_name(self.is_dynamic)))
        check_coils(acq, self.coils, 'the model in %s' % self.where)

    def _build(self, shape):
        from models import ckpt as ckpt_mod
        from models import device, model_tf
        tf = self.tf
        self.close()
        frames, (h, w) = (shape[0] if self.is_dynamic else None), shape[-2:]
        graph, self.feature, self.mask, self.pred = model_tf.build_inference_graph(
            self.cfg, None, h, w, frames)
        self.coil_inputs = [graph.get_tensor_by_name(k + ':0')
                            for k in ('kspace', 'coil_maps')] if self.coils else []
        with graph.as_default():
            saver = tf.train.Saver(model_tf.model_variables(graph))
        self.sess = tf.Session(graph=graph, config=device.session_config(
            device.detect_device(), self.cfg.precision_mode))
        with graph.as_default():
            ckpt_mod.restore(tf, saver, self.sess, self.ckpt, tf.global_variables())
        self._shape = shape

    def predict(self, feature, mask, *coil_data):
        """coil_data: multi-coil kspace and coil_maps (B, ..., C, H, W, 2)."""
        if feature.shape[1:-1] != self._shape:
            self._build(feature.shape[1:-1])
        feeds = dict(zip([self.feature, self.mask] + self.coil_inputs,
                         (feature, mask) + coil_data))
        return self.sess.run(self.pred, feeds)

    def close(self):
        if self.sess is not None:
            self.sess.close()
            self.sess = None


class FrozenModel(object):
    """A frozen .pb (ckpt_to_pb.py): batch and size fixed in the graph; a short last batch
    is padded with its first item, as test.py pads."""
    peak = 1.0

    def __init__(self, path):
        from models import export
        self.where = path
        self.runner = export.PbRunner(export.load_pb(path), [export.OUTPUT], where=path)
        shapes = dict((t.name, t.shape) for t in self.runner.inputs)
        if sorted(shapes) not in (['feature', 'mask'], ['coil_maps', 'feature', 'kspace',
                                                         'mask']) or shapes['feature'] is None:
            raise InputError('%s: expected inputs feature and mask (the graph contract; '
                             'multi-coil: and kspace, coil_maps), found %s'
                             % (path, ', '.join(sorted(shapes))))
        self.coils = int(shapes['kspace'][-4]) if 'kspace' in shapes else 0
        self.order = [t.name for t in self.runner.inputs]
        self.batch = shapes['feature'][0] if shapes['feature'][0] > 0 else None
        self.item_shape = tuple(shapes['feature'][1:-1])
        self.is_dynamic = len(self.item_shape) == 3
        self.describe = 'frozen graph %s, input %s' % (path, shapes['feature'])

    def check(self, acq):
        if acq.is_dynamic != self.is_dynamic:
            raise InputError('%s: %s data but the graph %s is %s' % (
                acq.path, rank_name(acq.is_dynamic), self.where, rank_name(self.is_dynamic)))
        if -1 not in self.item_shape and tuple(acq.shape) != self.item_shape:
            raise InputError('%s: items are %s but the graph %s was frozen for %s; freeze it '
                             'with ckpt_to_pb.py --image_size' % (
                                 acq.path, 'x'.join(map(str, acq.shape)), self.where,
                                 'x'.join(map(str, self.item_shape))))
        check_coils(acq, self.coils, 'the graph %s' % self.where)

    def predict(self, feature, mask, *coil_data):
        n = len(feature)
        arrays = dict(zip(('feature', 'mask', 'kspace', 'coil_maps'),
                          (feature, mask) + coil_data))
        if self.batch and n < self.batch:
            pad = [0] * (self.batch - n)
            arrays = dict((k, np.concatenate([x, x[pad]])) for k, x in arrays.items())
        return self.runner.run([arrays[k] for k in self.order])[0][:n]

    def close(self):
        self.runner.close()


def scales(zf, mode, peak):
    """(B,) factors the zero-filled images (B, ...) are divided by before the network and the
    reconstructions multiplied by after it: 1 ('stored'), or max |zf| / peak per item
    ('zf_max'; 1 for an all-zero item)."""
    if mode == 'stored':
        return np.ones(len(zf), np.float32)
    top = np.abs(zf).reshape(len(zf), -1).max(axis=1)
    return np.where(top > 0, top / peak, 1.0).astype(np.float32)


def find_inputs(paths, out_dir=None):
    """Files and folders -> the HDF5 and CMRxRecon .mat files (folders walked, sorted; files
    under `out_dir`, our own outputs, left out); InputError for a path that does not exist or a
    folder without one."""
    skip = os.path.join(os.path.abspath(out_dir), '') if out_dir else None
    found = []
    for p in paths:
        if os.path.isfile(p):
            found.append(p)
        elif os.path.isdir(p):
            hits = sorted(os.path.join(r, n) for r, _, names in os.walk(p) for n in names
                          if wanted(n) and not (
                              skip and os.path.abspath(os.path.join(r, n)).startswith(skip)))
            if not hits:
                raise InputError('%s: no .h5 / .hdf5 / CMRxRecon .mat file in the folder' % p)
            found.extend(hits)
        else:
            raise InputError('%s: no such file or folder' % p)
    return found


def output_paths(out_dir, name, n, formats):
    """{format: [paths]} of one input file's output `name` (the file's, or the reader's
    out_name): reconstructions/<name> (HDF5), nifti/<stem>.nii and <stem>_zero_filled.nii,
    png/<stem>_<item>.png."""
    stem = os.path.splitext(name)[0]
    out = {}
    if 'h5' in formats:
        out['h5'] = [os.path.join(out_dir, 'reconstructions', name)]
    if 'nifti' in formats:
        out['nifti'] = [os.path.join(out_dir, 'nifti', stem + s + '.nii')
                        for s in ('', '_zero_filled')]
    if 'png' in formats:
        out['png'] = [os.path.join(out_dir, 'png', '%s_%03d.png' % (stem, i)) for i in range(n)]
    return out


def reconstruct_file(model, acq, outputs, batch_size, scale_mode, peak):
    """Run `model` over `acq` in batches and write `outputs` (models.data.recon_files.Writers) as it
    goes. Returns (items, seconds in the network)."""
    mode = acq.scale_default if scale_mode == 'auto' else scale_mode
    net = 0.0
    for start, zf, mask, coil in acq.batches(model.batch or batch_size):
        factor = scales(zf, mode, peak)
        s = factor.reshape((-1,) + (1,) * (zf.ndim - 1))
        extra, rss = (), None
        if coil:
            k, maps = coil
            extra = (to_two_channel(k / factor.reshape((-1,) + (1,) * (k.ndim - 1))),
                     to_two_channel(maps))
            rss = acq.to_file(coils.rss(np.fft.ifft2(k, norm='ortho')))
        t0 = time.perf_counter()
        pred = model.predict(to_two_channel(zf / s), mask, *extra)
        net += time.perf_counter() - t0
        outputs.write(start, acq.to_file(np.abs(zf)), acq.to_file(np.abs(to_complex(pred) * s)),
                      rss)
    return acq.n, net


def run(model, paths, out_dir, batch_size=4, formats=FORMATS, scale_mode='auto', peak=None,
        overwrite=False, log=print, warn=None):
    """Reconstruct every file of `paths`. A file that cannot be done (bad input, outputs that
    exist without `overwrite`) is one `warn` line and is skipped; the others are written.
    Returns a dict: files, images (2-D images), seconds, network_seconds, problems."""
    peak = peak or model.peak
    done = dict(files=0, images=0, seconds=0.0, network_seconds=0.0, problems=[])
    names = {}
    t_all = time.perf_counter()
    for k, path in enumerate(paths):
        try:
            acq = acquired.open_acquired(path, frames=not model.is_dynamic)
            try:
                name = getattr(acq, 'out_name', None) or os.path.basename(path)
                if name in names:
                    raise InputError('%s: same output name %s as %s; outputs are named after '
                                     'the input file, so give one of them in another run'
                                     % (path, name, names[name]))
                names[name] = path
                model.check(acq)
                t0 = time.perf_counter()
                out = output_paths(out_dir, name, acq.n, formats)
                with Writers(out, acq, overwrite) as writers:
                    n, net = reconstruct_file(model, acq, writers, batch_size, scale_mode, peak)
                secs = time.perf_counter() - t0
            finally:
                acq.close()
        except InputError as e:
            done['problems'].append(str(e))
            (warn or log)('error: %s' % e)
            continue
        images = n * (acq.shape[0] if acq.is_dynamic else 1)
        done['files'] += 1
        done['images'] += images
        done['network_seconds'] += net
        log('[%d/%d] %s: %s; %d images in %.2f s (%.1f images/s) -> %s'
            % (k + 1, len(paths), path, acq.describe, images, secs, images / max(secs, 1e-9),
               ', '.join(v[0] if len(v) < 3 else os.path.dirname(v[0]) + os.sep
                         for v in out.values())))
    done['seconds'] = time.perf_counter() - t_all
    failed = len(done['problems'])
    log('reconstructed %d images from %d of %d files in %.2f s: %.2f images/s (network alone '
        '%.2f images/s)%s' % (done['images'], done['files'], len(paths), done['seconds'],
                              done['images'] / max(done['seconds'], 1e-9),
                              done['images'] / max(done['network_seconds'], 1e-9),
                              '; %d file%s failed' % (failed, 's' if failed > 1 else '')
                              if failed else ''))
    return done
