/**
 * The ledger's tamper evidence: its append order as an RFC 6962 Merkle tree, tree heads signed with the ledger's own
 * key (a file outside the database), the full re-check (`verify`), and inclusion proofs checked without a database.
 */
export { loadIntegrityConfig, type IntegrityConfig } from './integrityConfig';
export { loadOrCreateLedgerKey, readLedgerPublicKey, ledgerPublicKeyFrom, type LedgerPublicKey, type LedgerSigningKey } from './ledgerKey';
export { resolveTrustedKey, type TrustedKey } from './trustedKey';
export { ledgerLeafData, ledgerLeafHash, LEAF_VERSION, type LedgerLeaf } from './ledgerLeaf';
export { treeHeadStatement, signTreeHead, checkTreeHeadSignature, TREE_HEAD_TYPE, type TreeHeadBody, type SignedTreeHead } from './treeHead';
export { TreeHeadSigner, signTreeHeadNow, type TreeHeadSignerOptions } from './treeHeadSigner';
export { readTip, latestTreeHead, type LedgerTip, type StoredTreeHead } from './treeHeadStore';
export { checkLedgerRow, type StoredLedgerRow, type RowCheck } from './checkLedgerRow';
export { ChainChecker, type ChainLink, type ChainTip } from './chainChecker';
export { verifyLedger, type VerifyLedgerOptions, type VerifyReport } from './verifyLedger';
export { PROBLEM_CODES, describeProblem, problemSubject, type ProblemCode, type IntegrityProblem } from './problems';
export { buildInclusionProof } from './buildProof';
export { InclusionProofFile, PROOF_TYPE } from './proofFile';
export { verifyProofFile, type ProofCheck, type ProofProblem } from './verifyProofFile';
export { IntegrityError, type IntegrityErrorCode } from './errors';
export { buildEvidenceBundle, MAX_BUNDLE_EVENTS } from './buildBundle';
export { EvidenceBundle, BUNDLE_TYPE } from './bundleFile';
export { verifyBundle, type BundleCheck, type BundleProblem } from './verifyBundle';
