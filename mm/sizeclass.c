// SPDX-License-Identifier: MIT
#include <mm/sizeclass.h>

#define CLASS_ROW(i, sz, prev, n, blk, t) \
	[i] = { (sz), (n), (blk), (t), INV64(ODD_PART(sz)), \
		BLOCK_MUL(sz), BLOCK_MUL(sz) * (sz), __builtin_ctz(sz) },
const struct class_info class_info[NUM_CLASSES] = { HAK_CLASS_TABLE(CLASS_ROW) };
#undef CLASS_ROW

/* tiny_class_lut[tiny_index(n)] for n in 0..1024 (scripts/gen-classes.py). */
const uint8_t tiny_class_lut[TINY_INDEX_ENTRIES] = { HAK_TINY_CLASS_LUT };

const uint8_t mid_class_lut[HAK_MID_LUT_ENTRIES] = { HAK_MID_CLASS_LUT };
