;; Int8 dot products of one query with many rows, relaxed SIMD (edgerec core, scoring/kernel).
;;
;; dots(q, x, stride, chunks, rows, out): for r in [0, ceil4(rows)):
;;   out[r] = Σ_d q_u[d] · x[r·stride + d]    (exact int32; q_u, x ∈ [−127, 127])
;;
;; `i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c)` is exact only while every lane of b is in
;; [0, 127] (the runtime may read b's top bit as sign or magnitude; x86 lowers it to pmaddubsw,
;; whose pairwise i16 sum cannot saturate for |a| ≤ 128, b ≤ 127). So the query is split once per
;; call into q⁺ = max(q_u, 0) and q⁻ = max(−q_u, 0), both in [0, 127], and
;;   Σ x·q_u = Σ x·q⁺ − Σ x·q⁻
;; with the item row x as the signed operand: exact for every int8 item value, no narrower
;; quantization range needed.
;;
;; Layout at `q`: per 16-dim chunk c, q⁺ at q + 32c and q⁻ at q + 32c + 16 (zero past dims, so
;; bytes read past a row's end multiply by 0). Rows are read four at a time; the caller keeps
;; 3·stride + 16 readable bytes after the last row and room for ceil4(rows) results at `out`.
(module
  (import "env" "memory" (memory 1))
  (func (export "dots")
    (param $q i32) (param $x i32) (param $stride i32) (param $chunks i32) (param $rows i32) (param $out i32)
    (local $r i32) (local $c i32) (local $p i32) (local $qp i32)
    (local $s2 i32) (local $s3 i32)
    (local $qpos v128) (local $qneg v128) (local $v v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
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
        (local.set $b0 (v128.const i64x2 0 0))
        (local.set $b1 (v128.const i64x2 0 0))
        (local.set $b2 (v128.const i64x2 0 0))
        (local.set $b3 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $qp (local.get $q))
        (local.set $c (i32.const 0))
        (loop $chunkLoop
          (local.set $qpos (v128.load (local.get $qp)))
          (local.set $qneg (v128.load offset=16 (local.get $qp)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $a0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qpos) (local.get $a0)))
          (local.set $b0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qneg) (local.get $b0)))
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $stride))))
          (local.set $a1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qpos) (local.get $a1)))
          (local.set $b1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qneg) (local.get $b1)))
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $s2))))
          (local.set $a2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qpos) (local.get $a2)))
          (local.set $b2 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qneg) (local.get $b2)))
          (local.set $v (v128.load (i32.add (local.get $p) (local.get $s3))))
          (local.set $a3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qpos) (local.get $a3)))
          (local.set $b3 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $v) (local.get $qneg) (local.get $b3)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $chunkLoop (i32.lt_u (local.get $c) (local.get $chunks))))
        (local.set $a0 (i32x4.sub (local.get $a0) (local.get $b0)))
        (local.set $a1 (i32x4.sub (local.get $a1) (local.get $b1)))
        (local.set $a2 (i32x4.sub (local.get $a2) (local.get $b2)))
        (local.set $a3 (i32x4.sub (local.get $a3) (local.get $b3)))
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
