// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { _build_bazel_remote_execution_v2_DigestFunction_Value, _build_bazel_remote_execution_v2_DigestFunction_Value__Output } from '../../../../../build/bazel/remote/execution/v2/DigestFunction.js';
import type { ActionCacheUpdateCapabilities as _build_bazel_remote_execution_v2_ActionCacheUpdateCapabilities, ActionCacheUpdateCapabilities__Output as _build_bazel_remote_execution_v2_ActionCacheUpdateCapabilities__Output } from '../../../../../build/bazel/remote/execution/v2/ActionCacheUpdateCapabilities.js';
import type { PriorityCapabilities as _build_bazel_remote_execution_v2_PriorityCapabilities, PriorityCapabilities__Output as _build_bazel_remote_execution_v2_PriorityCapabilities__Output } from '../../../../../build/bazel/remote/execution/v2/PriorityCapabilities.js';
import type { _build_bazel_remote_execution_v2_SymlinkAbsolutePathStrategy_Value, _build_bazel_remote_execution_v2_SymlinkAbsolutePathStrategy_Value__Output } from '../../../../../build/bazel/remote/execution/v2/SymlinkAbsolutePathStrategy.js';
import type { _build_bazel_remote_execution_v2_Compressor_Value, _build_bazel_remote_execution_v2_Compressor_Value__Output } from '../../../../../build/bazel/remote/execution/v2/Compressor.js';
import type { FastCdc2020Params as _build_bazel_remote_execution_v2_FastCdc2020Params, FastCdc2020Params__Output as _build_bazel_remote_execution_v2_FastCdc2020Params__Output } from '../../../../../build/bazel/remote/execution/v2/FastCdc2020Params.js';
import type { RepMaxCdcParams as _build_bazel_remote_execution_v2_RepMaxCdcParams, RepMaxCdcParams__Output as _build_bazel_remote_execution_v2_RepMaxCdcParams__Output } from '../../../../../build/bazel/remote/execution/v2/RepMaxCdcParams.js';
import type { Long } from '@grpc/proto-loader';

export interface CacheCapabilities {
  'digestFunctions'?: (_build_bazel_remote_execution_v2_DigestFunction_Value)[];
  'actionCacheUpdateCapabilities'?: (_build_bazel_remote_execution_v2_ActionCacheUpdateCapabilities | null);
  'cachePriorityCapabilities'?: (_build_bazel_remote_execution_v2_PriorityCapabilities | null);
  'maxBatchTotalSizeBytes'?: (number | string | Long);
  'symlinkAbsolutePathStrategy'?: (_build_bazel_remote_execution_v2_SymlinkAbsolutePathStrategy_Value);
  'supportedCompressors'?: (_build_bazel_remote_execution_v2_Compressor_Value)[];
  'supportedBatchUpdateCompressors'?: (_build_bazel_remote_execution_v2_Compressor_Value)[];
  'maxCasBlobSizeBytes'?: (number | string | Long);
  'splitBlobSupport'?: (boolean);
  'spliceBlobSupport'?: (boolean);
  'fastCdc_2020Params'?: (_build_bazel_remote_execution_v2_FastCdc2020Params | null);
  'repMaxCdcParams'?: (_build_bazel_remote_execution_v2_RepMaxCdcParams | null);
}

export interface CacheCapabilities__Output {
  'digestFunctions': (_build_bazel_remote_execution_v2_DigestFunction_Value__Output)[];
  'actionCacheUpdateCapabilities': (_build_bazel_remote_execution_v2_ActionCacheUpdateCapabilities__Output | null);
  'cachePriorityCapabilities': (_build_bazel_remote_execution_v2_PriorityCapabilities__Output | null);
  'maxBatchTotalSizeBytes': (number);
  'symlinkAbsolutePathStrategy': (_build_bazel_remote_execution_v2_SymlinkAbsolutePathStrategy_Value__Output);
  'supportedCompressors': (_build_bazel_remote_execution_v2_Compressor_Value__Output)[];
  'supportedBatchUpdateCompressors': (_build_bazel_remote_execution_v2_Compressor_Value__Output)[];
  'maxCasBlobSizeBytes': (number);
  'splitBlobSupport': (boolean);
  'spliceBlobSupport': (boolean);
  'fastCdc_2020Params': (_build_bazel_remote_execution_v2_FastCdc2020Params__Output | null);
  'repMaxCdcParams': (_build_bazel_remote_execution_v2_RepMaxCdcParams__Output | null);
}
