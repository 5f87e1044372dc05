import { SignInForm } from '../../components/sign-in-form';

/** Sign-in page. */
export default function SignInPage() {
  return <SignInForm />;
}
