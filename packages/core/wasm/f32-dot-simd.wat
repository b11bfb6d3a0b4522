;; Float32 dot products of one query with many rows, SIMD128 (edgerec core, scoring/kernel).
;;
;; dots(q, x, stride, quads, rows, out): for r in [0, rows):
;;   out[r] = Σ_d x_u[d] · y[r·stride + d]    (float32 multiply-add in f32x4 lanes)
;;
;; Accumulation: lane l of one f32x4 accumulator sums the dims d ≡ l (mod 4) in order, then the
;; four lanes are added as (l0 + l2) + (l1 + l3). Every step rounds to float32, so the result can
;; differ from a float64 loop rounded once in the last bits (ties and near-ties may swap).
;;
;; Layout: `q` holds the query as float32 zero-padded to 4·quads values; `stride` is the row
;; stride in bytes (4·dims). Each row is read 16 bytes at a time, so the caller keeps 16 readable
;; bytes of finite values after the last row (bytes read past a row's end multiply by 0) and room
;; for `rows` results at `out`.
(module
  (import "env" "memory" (memory 1))
  (func (export "dots")
    (param $q i32) (param $x i32) (param $stride i32) (param $quads i32) (param $rows i32) (param $out i32)
    (local $r i32) (local $c i32) (local $p i32) (local $qp i32) (local $qend i32)
    (local $a0 v128) (local $a1 v128)
    (local.set $qend (i32.add (local.get $q) (i32.shl (local.get $quads) (i32.const 4))))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $qp (local.get $q))
        (loop $quadLoop
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load (local.get $qp)) (v128.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $qp (i32.add (local.get $qp) (i32.const 16)))
          (br_if $quadLoop (i32.lt_u (local.get $qp) (local.get $qend))))
        ;; Horizontal sum: [a0 + a2, a1 + a3, ...], then lane 0 + lane 1.
        (local.set $a1 (f32x4.add (local.get $a0)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a0) (local.get $a0))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $a1)) (f32x4.extract_lane 1 (local.get $a1))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop)))))
