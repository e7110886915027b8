import { ChangeCursor } from './change-cursor.js';

describe('ChangeCursor', () => {
  it('hands out each number once, in order, and moves past contiguous numbers', () => {
    const cursor = new ChangeCursor(10, 5_000);
    expect(cursor.accept([12, 11, 13], 0)).toEqual([11, 12, 13]);
    expect(cursor.from).toBe(13);
    expect(cursor.accept([12, 13, 14], 10)).toEqual([14]);
    expect(cursor.from).toBe(14);
  });

  it('ignores numbers at or below where it started', () => {
    const cursor = new ChangeCursor(10, 5_000);
    expect(cursor.accept([9, 10], 0)).toEqual([]);
    expect(cursor.from).toBe(10);
  });

  it('holds its place below a gap, delivers what lies above it once, and moves on when the gap fills', () => {
    const cursor = new ChangeCursor(0, 5_000);
    expect(cursor.accept([1, 3, 4], 0)).toEqual([1, 3, 4]);
    expect(cursor.from).toBe(1);
    expect(cursor.pending).toBe(2);
    // The same rows are read again while the gap is open: nothing is handed out twice.
    expect(cursor.accept([3, 4], 1_000)).toEqual([]);
    expect(cursor.from).toBe(1);
    // The transaction holding 2 commits.
    expect(cursor.accept([2, 3, 4], 2_000)).toEqual([2]);
    expect(cursor.from).toBe(4);
    expect(cursor.pending).toBe(0);
  });

  it('gives a gap up after gapWaitMs (a rolled-back transaction never fills it)', () => {
    const cursor = new ChangeCursor(0, 5_000);
    cursor.accept([2], 1_000);
    expect(cursor.from).toBe(0);
    cursor.accept([2], 5_999);
    expect(cursor.from).toBe(0);
    expect(cursor.accept([2, 3], 6_000)).toEqual([3]);
    expect(cursor.from).toBe(3);
  });

  it('waits for each gap from the moment it was first seen', () => {
    const cursor = new ChangeCursor(0, 1_000);
    cursor.accept([2, 4], 0);
    expect(cursor.from).toBe(0);
    cursor.accept([], 1_000);
    // 1 was given up; 3 is seen as missing only now that 2 is behind the cursor.
    expect(cursor.from).toBe(2);
    cursor.accept([], 1_999);
    expect(cursor.from).toBe(2);
    cursor.accept([], 2_000);
    expect(cursor.from).toBe(4);
  });
});
