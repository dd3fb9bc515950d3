# SPDX-License-Identifier: GPL-2.0-only
#
# Sphinx configuration for `make htmldocs`: our Documentation/ with the
# kernel's own kernel-doc extension, from the linux-source tree deps.sh
# extracted (VMDEV_KSRC). In a kernel tree the kernel's conf.py does this.
import os
import sys

ksrc = os.environ["VMDEV_KSRC"]
sys.path.insert(0, os.path.join(ksrc, "Documentation", "sphinx"))

project = "vhost-mdev"
master_doc = "index"
extensions = ["kerneldoc", "rstFlatTable"]
kerneldoc_bin = os.path.join(ksrc, "scripts", "kernel-doc")
kerneldoc_srctree = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# The ABI files are the kernel's own format, read by scripts/get_abi.pl.
exclude_patterns = ["ABI"]
html_theme = "alabaster"
