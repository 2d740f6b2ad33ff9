// SPDX-License-Identifier: Apache-2.0
import { MaxNodeScore, type NodeScore } from '@cpkit/core';

/**
 * Rescales raw scores in place so the highest becomes `maxPriority` (integer division, as upstream's
 * `helper.DefaultNormalizeScore`). With `reverse`, a node's score becomes `maxPriority - score`, so the
 * node with the smallest raw score ranks first; when every raw score is 0, `reverse` gives every node
 * `maxPriority` and the plain form leaves them at 0.
 * @category Scheduler plugins
 */
export function defaultNormalizeScore(
  scores: NodeScore[],
  reverse = false,
  maxPriority = MaxNodeScore,
): void {
  let maxCount = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i].score > maxCount) maxCount = scores[i].score;
  if (maxCount === 0) {
    if (reverse) for (let i = 0; i < scores.length; i++) scores[i].score = maxPriority;
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let score = Math.trunc((maxPriority * scores[i].score) / maxCount);
    if (reverse) score = maxPriority - score;
    scores[i].score = score;
  }
}
