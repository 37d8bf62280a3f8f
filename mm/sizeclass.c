// SPDX-License-Identifier: MIT
#include <mm/sizeclass.h>

#define CLASS_ROW(i, sz, prev, n, blk, t) \
	[i] = { (sz), (n), (blk), (t), INV64(ODD_PART(sz)), __builtin_ctz(sz) },
const struct class_info class_info[NUM_CLASSES] = { HAK_CLASS_TABLE(CLASS_ROW) };
#undef CLASS_ROW

/* tiny_class_lut[(n + 15) / 16] for n in 0..1024. */
const uint8_t tiny_class_lut[TINY_MAX_SIZE / 16 + 1] = {
	0, 0, 1, 2, 3, 4, 5, 6, 7,                      /* n = 0 .. 128 */
	8, 8, 9, 9, 10, 10, 11, 11,                     /* .. 256 */
	12, 12, 12, 12, 13, 13, 13, 13,                 /* .. 384 */
	14, 14, 14, 14, 15, 15, 15, 15,                 /* .. 512 */
	16, 16, 16, 16, 16, 16, 16, 16,                 /* .. 640 */
	17, 17, 17, 17, 17, 17, 17, 17,                 /* .. 768 */
	18, 18, 18, 18, 18, 18, 18, 18,                 /* .. 896 */
	19, 19, 19, 19, 19, 19, 19, 19,                 /* .. 1024 */
};

const uint8_t mid_class_lut[HAK_MID_LUT_ENTRIES] = { HAK_MID_CLASS_LUT };
