"""train.py's own log: what it prints also goes to <save_ckpt_Dir>/train_log.txt, appended
across resumes, so the checkpoint folder holds the history its training curves are drawn from
(models.report), wherever stdout went."""
import sys

FILE = 'train_log.txt'


class Tee(object):
    """While entered, sys.stdout is this object: every write goes to the stream it replaced
    and, once `open(path)` has been called, to the file `path` (appended to). What was printed
    before `open` is kept in memory and written first, so a run's opening lines are in the file
    too, and a run refused before it has a folder leaves no file behind."""

    def __init__(self):
        self.stream = None
        self.file = None
        self.pending = []

    def __enter__(self):
        self.stream = sys.stdout
        sys.stdout = self
        return self

    def __exit__(self, *exc):
        sys.stdout = self.stream
        if self.file is not None:
            self.file.close()
            self.file = None
        return False

    def open(self, path):
        self.file = open(path, 'a')
        self.file.write(''.join(self.pending))
        self.file.flush()
        self.pending = []

    def write(self, text):
        self.stream.write(text)
        if self.file is None:
            self.pending.append(text)
        else:
            self.file.write(text)

    def flush(self):
        self.stream.flush()
        if self.file is not None:
            self.file.flush()

    def __getattr__(self, name):
        # isatty, fileno, encoding...: those of the stream replaced
        return getattr(self.stream, name)
