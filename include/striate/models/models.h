// The model zoo (namespace striate::models): LeNet-5, AlexNet, VGG and ResNet,
// with torchvision's architectures, state_dict keys and parameter counts.
// See docs/layers.md.
#pragma once

#include "striate/models/alexnet.h"
#include "striate/models/lenet.h"
#include "striate/models/resnet.h"
#include "striate/models/vgg.h"
