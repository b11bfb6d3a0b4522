;; Int8 dot products of one query with many rows, SIMD128 only (edgerec core, scoring/kernel).
;;
;; dots(q, x, stride, chunks, rows, out): for r in [0, ceil4(rows)):
;;   out[r] = Σ_d q_u[d] · x[r·stride + d]    (exact int32; q_u, x ∈ [−127, 127])
;;
;; For runtimes without relaxed SIMD: each 16-byte item chunk is sign-extended to two i16x8
;; halves and multiplied with `i32x4.dot_i16x8_s` (pairwise i16 products summed to i32: exact).
;;
;; Layout at `q`: per 16-dim chunk c, the query widened to i16: dims 0–7 of the chunk at q + 32c,
;; dims 8–15 at q + 32c + 16 (zero past dims, so bytes read past a row's end multiply by 0). Rows
;; are read four at a time; the caller keeps 3·stride + 16 readable bytes after the last row and
;; room for ceil4(rows) results at `out`.
(module
  (import "env" "memory" (memory 1))
  (func (export "dots")
    (param $q i32) (param $x i32) (param $stride i32) (param $chunks i32) (param $rows i32) (param $out i32)
    (local $r i32) (local $c i32) (local $p i32) (local $qp i32)
    (local $s2 i32) (local $s3 i32)
    (local $qlo v128) (local $qhi v128) (local $v v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $t v128) (local $u v128)
    (local.set $s2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $s3 (i32.add (local.get $s2) (local.get $stride)))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0))
        (local.set $a3 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $qp (local.get $q))
        (local.set $c (i32.const 0))
        (loop $chunkLoop
          (local.set $qlo (v128.load (local.get $qp)))
          (local.set $qhi (v128.load offset=16 (local.get $qp)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $qlo))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qhi)))))
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $stride))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $qlo))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qhi)))))
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $s2))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $qlo))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qhi)))))
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $s3))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $qlo))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qhi)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $chunkLoop (i32.lt_u (local.get $c) (local.get $chunks))))
        ;; Horizontal sums of the four rows into one vector [Σa0, Σa1, Σa2, Σa3].
        (local.set $t (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $u (i32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
        (v128.store
          (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32x4.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t) (local.get $u))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t) (local.get $u))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowLoop)))))
