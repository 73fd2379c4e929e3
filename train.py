"""Train the D{n}-C{k} deep cascade (Schlemper et al.) on an HDF5 dataset.

  python train.py                                   # synthetic data, built on first use
  python train.py --data_train_dir data/x_train_acc4.hdf5 --data_test_dir data/x_test_acc4.hdf5

Checkpoints, config.json (the model configuration) and modelTst.meta (the inference graph)
go into --save_ckpt_Dir, where test.py and ckpt_to_pb.py look for them.
"""
import glob
import os
import shutil
import sys
import time

import numpy as np

from models import config as cfgmod
from models import ckpt, evaluate, masks, pre_input
from models.data import h5writer
from models.errors import (ArgumentParser, InputError, TrainingStopped, bool_flag,
                           exit_on_input_error, str2bool)
from models.tfv1 import tf_v1

META = 'modelTst.meta'
CKPT_PREFIX = 'model'
MAX_SKIPPED = 20  # consecutive non-finite steps tolerated under loss scaling


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    # The Ascend port's flags.
    p.add_argument('--batch_size', type=int, default=16)
    p.add_argument('--image_size', type=int, nargs='+', default=None, metavar='H [W]',
                   help='must match the data (default: taken from the data; 64 for synthetic)')
    p.add_argument('--random_seed', type=int, default=0)
    p.add_argument('--num_epoch', type=int, default=10)
    p.add_argument('--checkpoint_period', type=int, default=1, help='save every N epochs')
    p.add_argument('--checkpoint_steps', type=int, default=0,
                   help='also save every N steps (0: only per --checkpoint_period epochs)')
    p.add_argument('--data_url', default='', help='folder holding *train*.hdf5 / *test*.hdf5')
    p.add_argument('--data_train_dir', default='', help='training HDF5 file')
    p.add_argument('--data_test_dir', default='', help='test HDF5 file for validation')
    p.add_argument('--learning_rate', type=float, default=1e-3)
    bool_flag(p, 'continue_training', False, 'resume from the latest checkpoint')
    p.add_argument('--train_url', default='', help='copy the checkpoint folder here at the end')
    p.add_argument('--last_checkpoint_dir', default='',
                   help='resume from this folder instead of --save_ckpt_Dir')
    p.add_argument('--save_ckpt_Dir', default='./save_ckpt')
    # Model (None = paper default, or the saved value when resuming).
    p.add_argument('--model', default=None, choices=cfgmod.MODELS,
                   help='static 2D, dynamic 2D+t (the DS cascade) or crnn (CRNN-MRI, 2D+t; '
                   'Dn, Dc = its nd layers, nc iterations) (default: from the data, '
                   '(N, T, H, W) labels are dynamic)')
    p.add_argument('--frame_dist', type=int, nargs='*', default=None, metavar='D',
                   help='dynamic: data-sharing distances (default 0 1 2 3 4); '
                   'give the flag with no value for the plain 3D cascade')
    p.add_argument('--Dn', type=int, default=None, help='conv layers per cascade (default 5)')
    p.add_argument('--Dc', type=int, default=None, help='cascades (default 5)')
    p.add_argument('--nf', type=int, default=None, help='filters per conv layer (default 64)')
    p.add_argument('--dc_mode', default=None, choices=cfgmod.DC_MODES)
    p.add_argument('--batch_norm', type=str2bool, nargs='?', const=True, default=None)
    p.add_argument('--share_weights', type=str2bool, nargs='?', const=True, default=None)
    # Training.
    p.add_argument('--optimizer', default='adam', choices=('adam', 'sgd'),
                   help='adam (paper) or sgd with exponential decay 0.98/1000 steps (port)')
    p.add_argument('--adam_beta1', type=float, default=None,
                   help='Adam beta1 (default 0.9; 0.5 for crnn, the reference\'s recipe)')
    p.add_argument('--precision_mode', default='allow_mix_precision',
                   choices=cfgmod.PRECISION_MODES)
    p.add_argument('--train_steps', type=int, default=0, help='stop after N steps (0: no limit)')
    p.add_argument('--mask_mode', default='fixed', choices=('fixed', 'random'),
                   help='fixed: masks stored in the file; random: a new mask per image per epoch')
    p.add_argument('--mask_type', default=None, choices=masks.MASK_TYPES,
                   help='for --mask_mode random (default: the file\'s, else cartesian)')
    p.add_argument('--acc', type=float, default=None,
                   help='acceleration for random masks / synthetic data (default 4)')
    p.add_argument('--sample_n', type=int, default=None, help='central lines (default 8)')
    p.add_argument('--synthetic_n', type=int, default=200,
                   help='images in the synthetic dataset built when no data is given')
    p.add_argument('--log_every', type=int, default=10, help='log every N steps')
    p.add_argument('--warmup_steps', type=int, default=2,
                   help='first steps of a run left out of timing figures')
    p.add_argument('--max_to_keep', type=int, default=5)
    bool_flag(p, 'overwrite', False, 'replace checkpoints already in --save_ckpt_Dir')
    a = p.parse_args(argv)
    for name in ('batch_size', 'num_epoch', 'checkpoint_period', 'log_every', 'max_to_keep',
                 'Dn', 'Dc', 'nf', 'synthetic_n'):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error('--%s must be >= 1, got %d' % (name, v))
    if a.Dn is not None and a.Dn < 2:
        p.error('--Dn must be >= 2 (first layer 2->nf, last nf->2)')
    if a.image_size is not None and (len(a.image_size) > 2 or min(a.image_size) < 8):
        p.error('--image_size takes H or H W, each >= 8')
    if a.frame_dist is not None and any(d < 0 for d in a.frame_dist):
        p.error('--frame_dist distances must be >= 0, got %s' % a.frame_dist)
    if a.adam_beta1 is not None and not 0 <= a.adam_beta1 < 1:
        p.error('--adam_beta1 must be in [0, 1), got %g' % a.adam_beta1)
    if min(a.train_steps, a.warmup_steps, a.checkpoint_steps) < 0 or not a.learning_rate > 0:
        p.error('--train_steps, --warmup_steps and --checkpoint_steps must be >= 0 and '
                '--learning_rate > 0')
    return a


def find_in(folder, part):
    hits = sorted(glob.glob(os.path.join(folder, '*%s*.hdf5' % part)) +
                  glob.glob(os.path.join(folder, '*%s*.h5' % part)))
    hits = [h for h in hits if not h.endswith('.partial')]
    if len(hits) > 1:
        raise InputError('%s: several %s files (%s); name one with --data_%s_dir'
                         % (folder, part, ', '.join(os.path.basename(h) for h in hits), part))
    return hits[0] if hits else ''


def resolve_data(a):
    """(train path, test path or '') from the flags; builds the synthetic set if none given."""
    train, test = a.data_train_dir, a.data_test_dir
    if a.data_url:
        if not os.path.isdir(a.data_url):
            raise InputError('--data_url %s: no such folder' % a.data_url)
        if train and not os.path.isabs(train) and not os.path.exists(train):
            train = os.path.join(a.data_url, train)
        if test and not os.path.isabs(test) and not os.path.exists(test):
            test = os.path.join(a.data_url, test)
        train = train or find_in(a.data_url, 'train')
        test = test or find_in(a.data_url, 'test')
        if not train:
            raise InputError('--data_url %s: no *train*.hdf5 file' % a.data_url)
    if train:
        return train, test
    size = tuple(a.image_size or [64])
    size = (size[0], size[-1])
    acc = a.acc or 4.0
    sample_n = 8 if a.sample_n is None else a.sample_n
    name = 'synthetic%dx%d_n%d_s%d' % (size[0], size[1], a.synthetic_n, sample_n)
    train, test = h5writer.split_paths('data', name, acc)
    if os.path.exists(train) and os.path.exists(test):
        print('no data given: using the synthetic dataset %s, %s' % (train, test))
    else:
        print('no data given: building a synthetic dataset of %d %dx%d images in data/ '
              '(make_h5data.py --synthetic)' % (a.synthetic_n, size[0], size[1]))
        h5writer.write_synthetic('data', a.synthetic_n, size, acc, sample_n, 'cartesian',
                                 seed=0, name=name, overwrite=True)
    return train, test


def prepare_ckpt_dir(a):
    """Check --save_ckpt_Dir against --continue_training / --overwrite. Returns
    (saved config or None, folder to resume from or None, our files to remove once the new
    run's inputs have been checked). Needs no TensorFlow, so bad input fails fast."""
    d = a.save_ckpt_Dir
    ours = [p for p in glob.glob(os.path.join(d, CKPT_PREFIX + '-*')) +
            [os.path.join(d, n) for n in ('checkpoint', cfgmod.FILE, META)] if os.path.exists(p)]
    if a.continue_training:
        src = a.last_checkpoint_dir or d
        saved = cfgmod.load(src)
        if not os.path.isfile(os.path.join(src, 'checkpoint')):
            raise InputError('%s: --continue_training but no checkpoint in the folder' % src)
        return saved, src, []
    if ours and not a.overwrite:
        raise InputError('%s already holds a trained model; pass --continue_training to resume '
                         'or --overwrite to start again' % d)
    return None, None, ours


def choose_model(flag, saved, data):
    """The model for `data`: --model when given, else a resumed run's own, else from the
    data's rank (static for (N, H, W), the dynamic cascade for (N, T, H, W)); crnn only when
    asked. A model that does not fit the data's rank is an InputError."""
    model = flag or (saved or {}).get('model') or ('dynamic' if data.is_dynamic else 'static')
    if cfgmod.is_dynamic({'model': model}) != data.is_dynamic:
        raise InputError('--model %s is for %s data, but the label of %s is %s'
                         % (model, '2D (N, H, W)' if data.is_dynamic else 'dynamic (N, T, H, W)',
                            data.path, '(N, T, H, W) (dynamic)' if data.is_dynamic
                            else '(N, H, W) (2D)'))
    return model


def choose_beta1(flag, saved, cfg):
    """Adam's beta1: --adam_beta1, else a resumed run's own, else the model's default."""
    if flag is not None:
        return flag
    if saved is not None and 'adam_beta1' in saved:
        return saved['adam_beta1']
    return cfgmod.adam_beta1(cfg)


def build_config(a, data, saved):
    h, w = data.shape[-2:]
    if a.image_size is not None and (a.image_size[0], a.image_size[-1]) != (h, w):
        raise InputError('--image_size %s does not match the data %s (images are %dx%d)'
                         % ('x'.join(map(str, a.image_size)), data.path, h, w))
    model = choose_model(a.model, saved, data)
    if model == 'static' and a.frame_dist is not None:
        raise InputError('--frame_dist: data sharing needs dynamic (N, T, H, W) data, %s is 2D'
                         % data.path)
    given = {'model': model, 'Dn': a.Dn, 'Dc': a.Dc, 'nf': a.nf, 'dc_mode': a.dc_mode,
             'batch_norm': a.batch_norm, 'share_weights': a.share_weights,
             'frame_dist': a.frame_dist}
    cfg = cfgmod.resolve_arch(given, saved, cfgmod.path(a.last_checkpoint_dir or a.save_ckpt_Dir))
    if saved is not None and tuple(saved['image_size']) != (h, w):
        raise InputError('%s: saved model was trained on %s images, data %s is %dx%d'
                         % (cfgmod.path(a.save_ckpt_Dir), saved['image_size'], data.path, h, w))
    if cfgmod.is_dynamic(cfg):
        if saved is not None and saved['frames'] != data.shape[0]:
            raise InputError('%s: saved model was trained on %d frames, data %s has %d'
                             % (cfgmod.path(a.save_ckpt_Dir), saved['frames'], data.path,
                                data.shape[0]))
        cfg['frames'] = data.shape[0]
    attrs = data.attrs
    cfg.update({
        'image_size': [h, w],
        'mask_mode': a.mask_mode,
        'mask_type': a.mask_type or str(attrs.get('mask_type', 'cartesian')),
        'acc': float(a.acc or attrs.get('acc', 4.0)),
        'sample_n': int(a.sample_n if a.sample_n is not None else attrs.get('sample_n', 8)),
        'batch_size': a.batch_size, 'learning_rate': a.learning_rate,
        'optimizer': a.optimizer, 'random_seed': a.random_seed,
        'adam_beta1': choose_beta1(a.adam_beta1, saved, cfg),
        'precision_mode': a.precision_mode,
        'data_train_dir': os.path.abspath(data.path),
    })
    if cfg['mask_mode'] == 'random':
        masks.make_mask(cfg['mask_type'], (h, w), cfg['acc'], cfg['sample_n'])
    return cfg


def import_tf():
    """TensorFlow and the graph modules, imported once the inputs have been checked."""
    tf = tf_v1()
    from models import device, losses, model_tf
    return tf, device, losses, model_tf


def export_inference_meta(tf, model_tf, cfg, ckpt_dir):
    """Save the inference graph (feature, mask -> predTst) as modelTst.meta."""
    graph, _, _, _ = model_tf.build_inference_graph(cfg)
    with graph.as_default():
        saver = tf.train.Saver(model_tf.model_variables(graph))
        saver.export_meta_graph(os.path.join(ckpt_dir, META))


class Timer(object):
    """Mean time of the training sess.run calls, leaving out the first `warmup` steps."""

    def __init__(self, warmup):
        self.warmup = warmup
        self.seen = 0
        self.total = []      # all timed steps of this run
        self.window = []     # timed steps since the last log line

    def add(self, dt):
        self.seen += 1
        if self.seen > self.warmup:
            self.total.append(dt)
            self.window.append(dt)

    @staticmethod
    def fmt(times, batch):
        if not times:
            return 'step_time=- images/sec=-'
        t = float(np.mean(times))
        return 'step_time=%.6f images/sec=%.2f' % (t, batch / t)


def copy_tree(src, dst):
    for root, _, files in os.walk(src):
        out = os.path.join(dst, os.path.relpath(root, src))
        if not os.path.isdir(out):
            os.makedirs(out)
        for f in files:
            shutil.copy2(os.path.join(root, f), os.path.join(out, f))


@exit_on_input_error
def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    t_start = time.time()
    saved, resume_dir, stale = prepare_ckpt_dir(a)
    train_path, test_path = resolve_data(a)
    data = pre_input.H5Data(train_path)
    test_data = pre_input.H5Data(test_path) if test_path else None
    cfg = build_config(a, data, saved)
    if test_data is not None and test_data.shape != data.shape:
        raise InputError('%s: test images %s differ from training images %s'
                         % (test_path, test_data.shape, data.shape))
    batches = pre_input.Batches(data, a.batch_size, a.random_seed, True, True, cfg['mask_mode'],
                                cfg['mask_type'], cfg['acc'], cfg['sample_n'])
    spe = batches.steps_per_epoch
    total_steps = spe * a.num_epoch
    if a.train_steps:
        total_steps = min(total_steps, a.train_steps)
    cfg['steps_per_epoch'] = spe
    ckpt_dir = a.save_ckpt_Dir
    for p in stale:
        os.remove(p)
    if not os.path.isdir(ckpt_dir):
        os.makedirs(ckpt_dir)
    tf, device, losses, model_tf = import_tf()
    restore_from = tf.train.latest_checkpoint(resume_dir) if resume_dir else None
    if resume_dir and not restore_from:
        raise InputError('%s: the checkpoint file names no readable checkpoint' % resume_dir)
    cfgmod.save(ckpt_dir, cfg)
    export_inference_meta(tf, model_tf, cfg, ckpt_dir)

    dev = device.detect_device()
    print(device.describe(dev, a.precision_mode))
    print('model: %s nf=%d dc=%s%s%s, images %s%dx%d, %d training images%s'
          % (cfgmod.model_name(cfg), cfg['nf'], cfg['dc_mode'],
             ', batch norm' if cfg['batch_norm'] else '',
             ', shared weights' if cfg['share_weights'] else '',
             '%d frames of ' % cfg['frames'] if cfgmod.is_dynamic(cfg) else '',
             cfg['image_size'][0], cfg['image_size'][1], data.n,
             ', %d test images' % test_data.n if test_data else ''))
    print('training: batch %d, %d steps/epoch, %d epochs, stop at step %d, %s lr %g%s, masks %s'
          % (a.batch_size, spe, a.num_epoch, total_steps, a.optimizer, a.learning_rate,
             ' beta1 %g' % cfg['adam_beta1'] if a.optimizer == 'adam' else '',
             cfg['mask_mode']))

    tf.reset_default_graph()
    tf.set_random_seed(a.random_seed)
    h, w = cfg['image_size']
    shape = model_tf.input_shape(cfg)
    feature = tf.placeholder(tf.float32, shape + [2], name='feature')
    label = tf.placeholder(tf.float32, shape + [2], name='label')
    mask = tf.placeholder(tf.float32, shape, name='mask')
    pred = model_tf.model_from_config(feature, mask, True, cfg)['dc%d' % cfg['Dc']]
    pred_eval = model_tf.model_from_config(feature, mask, False, cfg)['dc%d' % cfg['Dc']]
    loss = losses.training_loss(pred, label, cfg)
    global_step = tf.train.get_or_create_global_step()
    if a.optimizer == 'adam':
        opt = tf.train.AdamOptimizer(a.learning_rate, beta1=cfg['adam_beta1'])
    else:
        lr = tf.train.exponential_decay(a.learning_rate, global_step, 1000, 0.98, staircase=True)
        opt = tf.train.GradientDescentOptimizer(lr)
    scaled_opt = device.wrap_optimizer(opt, dev, a.precision_mode)
    loss_scaling = scaled_opt is not opt
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        if loss_scaling:
            # the loss-scale optimizer skips non-finite steps and lowers the scale itself
            train_op = scaled_opt.minimize(loss, global_step=global_step)
            finite = tf.is_finite(loss)
        else:
            # apply a step only when loss and gradients are finite, so weights stay good
            grads = opt.compute_gradients(loss)
            finite = tf.reduce_all(tf.stack([tf.is_finite(loss)] + [
                tf.reduce_all(tf.is_finite(g)) for g, _ in grads if g is not None]))
            train_op = tf.cond(finite, lambda: opt.apply_gradients(grads, global_step),
                               tf.no_op)
    loss_summary = tf.summary.scalar('loss', loss)
    val_ph = dict((k, tf.placeholder(tf.float32, name='val_' + k))
                  for k in ('psnr_in', 'psnr_re', 'ssim_in', 'ssim_re'))
    panel_ph = tf.placeholder(tf.uint8, [1, h, 4 * w, 1], name='val_panel')
    val_summary = tf.summary.merge([tf.summary.scalar('val/' + k, v) for k, v in val_ph.items()] +
                                   [tf.summary.image('val/zf_re_gt_err', panel_ph)])
    # relative paths in the checkpoint state file, so a moved or copied folder restores its own
    saver = tf.train.Saver(max_to_keep=a.max_to_keep, save_relative_paths=True)

    sess = tf.Session(config=device.session_config(dev, a.precision_mode, seed_threads=True))
    sess.run(tf.global_variables_initializer())
    if restore_from:
        ckpt.restore(tf, saver, sess, restore_from, tf.global_variables())
        print('resumed from %s at step %d' % (restore_from, sess.run(global_step)))
    start_step = int(sess.run(global_step))
    writer = tf.summary.FileWriter(ckpt_dir, sess.graph if not restore_from else None)

    def save(step):
        path = saver.save(sess, os.path.join(ckpt_dir, CKPT_PREFIX), global_step=step,
                          write_meta_graph=False)
        print('saved checkpoint %s' % path)

    def validate(epoch, step):
        vb = pre_input.Batches(test_data, a.batch_size, shuffle=False, drop_remainder=False)
        rows, first = [], None
        for item in evaluate.reconstruct(
                lambda f, m: sess.run(pred_eval, {feature: f, mask: m}), vb):
            rows.append(evaluate.image_row(*item))
            first = first or item
        s = evaluate.summarize(rows)
        print('[val] epoch=%d psnr_in=%.4f psnr_re=%.4f ssim_in=%.4f ssim_re=%.4f'
              % (epoch, s['psnr_in'], s['psnr_re'], s['ssim_in'], s['ssim_re']))
        feed = dict((val_ph[k], s[k]) for k in val_ph)
        feed[panel_ph] = evaluate.panel(*evaluate.middle_frame(first[1:]))[None, :, :, None]
        writer.add_summary(sess.run(val_summary, feed), step)

    if start_step >= total_steps:
        print('nothing to do: the checkpoint is at step %d, training stops at %d'
              % (start_step, total_steps))
    timer = Timer(a.warmup_steps)
    skipped = 0
    epoch_losses, epoch_times = [], []
    stream = pre_input.Prefetch(batches.from_step(start_step), size=3)
    step = start_step
    t_train = time.time()
    try:
        while step < total_steps:
            epoch, b, batch = next(stream)
            feed = {feature: batch['feature'], label: batch['label'], mask: batch['mask']}
            t0 = time.perf_counter()
            loss_v, ok, _, summ = sess.run([loss, finite, train_op, loss_summary], feed)
            dt = time.perf_counter() - t0
            if not ok:
                skipped += 1
                if not loss_scaling or skipped > MAX_SKIPPED:
                    raise TrainingStopped(
                        'non-finite loss or gradients (loss %r) at step %d, epoch %d; the step '
                        'was not applied and training stops; the last good checkpoint in %s '
                        'is kept' % (float(loss_v), step + 1, epoch + 1, ckpt_dir))
                print('[skip] step=%d loss=%r non-finite: step skipped, loss scale lowered'
                      % (step + 1, float(loss_v)))
                continue
            skipped = 0
            step += 1
            timer.add(dt)
            epoch_losses.append(float(loss_v))
            if timer.seen > a.warmup_steps:
                epoch_times.append(dt)
            if step % a.log_every == 0 or step == total_steps:
                print('[step] step=%d epoch=%d loss=%.6e %s'
                      % (step, epoch + 1, loss_v, Timer.fmt(timer.window, a.batch_size)))
                sys.stdout.flush()
                timer.window = []
                writer.add_summary(summ, step)
            saved_now = False
            if a.checkpoint_steps and step % a.checkpoint_steps == 0 and step < total_steps:
                save(step)
                saved_now = True
            if b == spe - 1:
                print('[epoch] epoch=%d step=%d loss=%.6e %s'
                      % (epoch + 1, step, np.mean(epoch_losses),
                         Timer.fmt(epoch_times, a.batch_size)))
                epoch_losses, epoch_times = [], []
                if test_data is not None:
                    validate(epoch + 1, step)
                if (epoch + 1) % a.checkpoint_period == 0 and step < total_steps and not saved_now:
                    save(step)
                sys.stdout.flush()
        if step > start_step or not tf.train.latest_checkpoint(ckpt_dir):
            save(step)
    finally:
        stream.close()
        writer.close()
    train_time = time.time() - t_train
    print('[done] steps=%d epochs=%.2f train_time=%.1f %s'
          % (step, step / float(spe), train_time, Timer.fmt(timer.total, a.batch_size)))
    if a.train_url and os.path.abspath(a.train_url) != os.path.abspath(ckpt_dir):
        copy_tree(ckpt_dir, a.train_url)
        print('copied %s to %s' % (ckpt_dir, a.train_url))
    print('total time %.1f s' % (time.time() - t_start))
    sess.close()


if __name__ == '__main__':
    main()
