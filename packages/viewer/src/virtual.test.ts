import { describe, expect, it } from 'vitest';
import { scrollToShow, visibleWindow } from './virtual.ts';

describe('the virtual list window', () => {
  it('renders the visible rows plus the overscan, clamped to the list', () => {
    expect(visibleWindow(0, 440, 44, 1000, 8)).toEqual({ start: 0, end: 19 });
    expect(visibleWindow(44 * 500, 440, 44, 1000, 8)).toEqual({ start: 492, end: 519 });
    expect(visibleWindow(44 * 995, 440, 44, 1000, 8)).toEqual({ start: 987, end: 1000 });
  });

  it('scrolls just enough to show the active row', () => {
    expect(scrollToShow(5, 0, 440, 44)).toBeUndefined();
    expect(scrollToShow(12, 0, 440, 44)).toBe(13 * 44 - 440);
    expect(scrollToShow(2, 200, 440, 44)).toBe(88);
  });
});
