public enum Stub3 {}
