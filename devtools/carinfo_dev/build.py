"""The build as ./configure saw it: reads devtools/carinfo_dev/build.ini.

configure renders build.ini from build.ini.in (AC_CONFIG_FILES). In a VPATH
build the rendered file lives in the build tree: point CARINFO_BUILD_INI at
it. Everything else (the instance, the tests, `make run`) asks a Build for
paths instead of guessing them.
"""
import configparser
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


class BuildError(RuntimeError):
    """build.ini is missing or incomplete: the tree is not configured."""


class Build:
    """Paths and facts of one configured tree; see build.ini.in."""

    def __init__(self, ini_path=None):
        self.ini_path = ini_path or os.environ.get("CARINFO_BUILD_INI") \
            or os.path.join(_HERE, "build.ini")
        if not os.path.isfile(self.ini_path):
            raise BuildError(
                "%s not found: run ./configure (or `make`) in the source tree "
                "first" % self.ini_path)
        # RawConfigParser: no %-interpolation in values.
        cp = configparser.RawConfigParser()
        cp.read(self.ini_path)
        if not cp.has_section("build"):
            raise BuildError("%s has no [build] section" % self.ini_path)
        sec = cp["build"]
        try:
            self.httpd = sec["httpd"].strip()
            self.apxs = sec["apxs"].strip()
            self.ap_libexecdir = sec["ap_libexecdir"].strip()
            self.httpd_version = sec.get("httpd_version", "").strip()
            self.httpd_builtins = sec.get("httpd_builtins", "").split()
            self.srcdir = sec["srcdir"].strip()
            self.builddir = sec["builddir"].strip()
        except KeyError as e:
            raise BuildError("%s lacks %s" % (self.ini_path, e)) from None
        for key in ("httpd", "ap_libexecdir", "srcdir", "builddir"):
            if "@" in getattr(self, key):
                raise BuildError("%s: %s was not substituted by configure"
                                 % (self.ini_path, key))

    # --- what the build produced (in the build tree) ---
    @property
    def module_so(self):
        return os.path.join(self.builddir, "mod_carinfo.so")

    @property
    def relay_bin(self):
        return os.path.join(self.builddir, "carinfo-relay")

    @property
    def ctl_bin(self):
        return os.path.join(self.builddir, "carinfoctl")

    # --- what the sources hold ---
    @property
    def sql_dir(self):
        return os.path.join(self.srcdir, "sql")

    @property
    def conf_template(self):
        return os.path.join(self.srcdir, "conf", "dev.conf.in")

    def is_builtin(self, module):
        """Whether `module` ("mod_mime" or "mime") is compiled into httpd,
        so that a LoadModule for it would fail."""
        name = module if module.startswith("mod_") else "mod_" + module
        return name in self.httpd_builtins

    def module_path(self, name):
        """The DSO path of httpd module `name` ("mime" -> .../mod_mime.so)."""
        return os.path.join(self.ap_libexecdir, "mod_%s.so" % name)

    def missing_binaries(self):
        """The built programs that do not exist (yet)."""
        return [p for p in (self.module_so, self.relay_bin, self.ctl_bin)
                if not os.path.isfile(p)]


def load(ini_path=None):
    """The Build of this tree (raises BuildError when not configured)."""
    return Build(ini_path)
