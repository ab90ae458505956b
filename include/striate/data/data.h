// striate::data: datasets, the DataLoader, transforms and file formats.
#pragma once

#include "striate/data/cifar.h"
#include "striate/data/dataloader.h"
#include "striate/data/dataset.h"
#include "striate/data/idx.h"
#include "striate/data/image.h"
#include "striate/data/image_folder.h"
#include "striate/data/random.h"
#include "striate/data/transforms.h"
